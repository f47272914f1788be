package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/hookflow/hookflow/workflows"
)

const (
	// DefaultNamespaceRetention is the retention of a namespace EnsureNamespace creates
	// when none is configured. Temporal counts it from a workflow's close, so every
	// delivery's run stays inspectable in Temporal UI for 3 days after it ends (Hookflow's
	// own database keeps the delivery and its attempts for good); it is also the
	// retention Temporal's CLI gives a namespace by default.
	DefaultNamespaceRetention = 72 * time.Hour
	// MinNamespaceRetention is the shortest retention Temporal accepts: one day.
	MinNamespaceRetention = 24 * time.Hour

	// namespaceReadyTimeout bounds the wait for a namespace, created a moment ago by this
	// process or a peer, to be usable.
	namespaceReadyTimeout = 60 * time.Second
	// namespaceRPCTimeout bounds one call while waiting, so that a call the SDK keeps
	// retrying does not use up the whole wait.
	namespaceRPCTimeout = 10 * time.Second
	// namespacePollInterval is the pause between two tries.
	namespacePollInterval = 250 * time.Millisecond
)

// Namespace is what EnsureNamespace found or made.
type Namespace struct {
	Name string
	// Created is set when this call registered the namespace; a namespace that existed,
	// or that a concurrent caller registered first, is left as it was.
	Created bool
	// Retention is the namespace's retention as the server reports it.
	Retention time.Duration
}

// EnsureNamespace registers namespace with the given retention (at least
// MinNamespaceRetention) when it does not exist, and returns once the server describes
// it. An existing namespace is not changed, whatever its retention; one that a concurrent
// caller registers first counts as existing. A namespace registered a moment ago is not
// yet usable everywhere: DescribeNamespace reads the server's database, but other calls
// go through each service's namespace cache, refreshed every few seconds
// (ListSearchAttributes right after RegisterNamespace answers that the namespace is not
// found). So EnsureNamespace waits until DescribeNamespace succeeds, and
// RegisterSearchAttributes until the namespace takes attributes, each for up to a minute.
func EnsureNamespace(ctx context.Context, c client.Client, namespace string, retention time.Duration) (Namespace, error) {
	ns := Namespace{Name: namespace}
	resp, err := describeNamespace(ctx, c, namespace)
	if err == nil {
		ns.Retention = resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
		return ns, nil
	}
	var notFound *serviceerror.NamespaceNotFound
	if !errors.As(err, &notFound) {
		return ns, fmt.Errorf("describe temporal namespace %s: %w", namespace, err)
	}
	if retention < MinNamespaceRetention {
		return ns, fmt.Errorf("temporal namespace %s: retention %v is shorter than Temporal's minimum of %v", namespace, retention, MinNamespaceRetention)
	}
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		Description:                      "Hookflow webhook deliveries",
		WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	switch {
	case err == nil:
		ns.Created = true
	case errors.As(err, &exists):
		// A concurrent migrate registered it first: it is theirs, with their retention.
	default:
		return ns, fmt.Errorf("register temporal namespace %s: %w", namespace, err)
	}
	resp, err = waitNamespace(ctx, c, namespace)
	if err != nil {
		return ns, err
	}
	ns.Retention = resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	return ns, nil
}

// describeNamespace describes namespace, within namespaceRPCTimeout.
func describeNamespace(ctx context.Context, c client.Client, namespace string) (*workflowservice.DescribeNamespaceResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, namespaceRPCTimeout)
	defer cancel()
	return c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
}

// waitNamespace describes namespace until the server knows it, for up to
// namespaceReadyTimeout.
func waitNamespace(ctx context.Context, c client.Client, namespace string) (*workflowservice.DescribeNamespaceResponse, error) {
	var resp *workflowservice.DescribeNamespaceResponse
	err := retryUntilReady(ctx, func(ctx context.Context) (retry bool, err error) {
		resp, err = describeNamespace(ctx, c, namespace)
		return err != nil && transient(err), err
	})
	if err != nil {
		return nil, fmt.Errorf("temporal namespace %s was registered but is not usable: %w", namespace, err)
	}
	return resp, nil
}

// RegisterSearchAttributes adds Hookflow's custom search attributes to namespace, skipping
// those that exist. It is idempotent and safe beside concurrent callers (attributes a
// peer added count as added); `hookflow migrate` and `hookflow dev` call it. On a
// namespace registered a moment ago it waits, for up to a minute, until the namespace
// takes attributes; an attribute that exists with another type is an error at once.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	err := retryUntilReady(ctx, func(ctx context.Context) (bool, error) {
		return addSearchAttributes(ctx, c, namespace)
	})
	if err != nil {
		return fmt.Errorf("register search attributes in temporal namespace %s: %w", namespace, err)
	}
	return nil
}

// addSearchAttributes lists namespace's search attributes and adds Hookflow's missing
// ones. It returns nil once all are there, or whether its error is worth another try:
// a namespace the frontend does not know yet, and an addition that raced another
// (Unavailable, "Generated search attributes mapping unavailable"), are; a conflicting
// type is not.
func addSearchAttributes(ctx context.Context, c client.Client, namespace string) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, namespaceRPCTimeout)
	defer cancel()
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return transient(err), fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range workflows.SearchAttributes() {
		if have, ok := existing.GetCustomAttributes()[name]; ok {
			if have != typ {
				return false, fmt.Errorf("search attribute %s exists with type %s, want %s", name, have, typ)
			}
			continue
		}
		missing[name] = typ
	}
	if len(missing) == 0 {
		return false, nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return transient(err), fmt.Errorf("add search attributes: %w", err)
	}
	// Listed again on the next try: done when the list has them all.
	return true, errors.New("search attributes added, not yet listed")
}

// transient reports whether err, from a namespace or search-attribute call, may go away
// by itself: the namespace is not yet in the frontend's cache, or the server is busy or
// raced a concurrent change.
func transient(err error) bool {
	var (
		notFound    *serviceerror.NamespaceNotFound
		unavailable *serviceerror.Unavailable
		nsUnavail   *serviceerror.NamespaceUnavailable
		exhausted   *serviceerror.ResourceExhausted
		timedOut    *serviceerror.DeadlineExceeded
	)
	return errors.As(err, &notFound) || errors.As(err, &unavailable) || errors.As(err, &nsUnavail) ||
		errors.As(err, &exhausted) || errors.As(err, &timedOut) || errors.Is(err, context.DeadlineExceeded)
}

// retryUntilReady calls try until it returns no error or an error not worth retrying,
// for up to namespaceReadyTimeout (and a last call's namespaceRPCTimeout); it returns the
// last error.
func retryUntilReady(ctx context.Context, try func(context.Context) (retry bool, err error)) error {
	deadline := time.Now().Add(namespaceReadyTimeout)
	for {
		retry, err := try(ctx)
		if err == nil || !retry {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %v: %w", namespaceReadyTimeout, err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(namespacePollInterval):
		}
	}
}

// SetNamespaceRetention gives namespace the workflow retention retention, if it has
// another: for a namespace Hookflow owns (the one `hookflow dev` embeds), whose retention
// follows its setting. It returns the retention the namespace had.
func SetNamespaceRetention(ctx context.Context, c client.Client, namespace string, retention time.Duration) (time.Duration, error) {
	d, err := describeNamespace(ctx, c, namespace)
	if err != nil {
		return 0, fmt.Errorf("describe namespace %s: %w", namespace, err)
	}
	had := d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	if had == retention {
		return had, nil
	}
	_, err = c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: namespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)},
	})
	if err != nil {
		return had, fmt.Errorf("set the retention of namespace %s: %w", namespace, err)
	}
	return had, nil
}

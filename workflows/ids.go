// Package workflows holds Hookflow's Temporal workflows — EventWorkflow, which checks an
// event and fans it out to its subscribers; DeliveryWorkflow, which delivers it to one;
// ReleaseWorkflow, which wakes a re-activated subscriber's queued deliveries; and
// BulkRetryWorkflow — with the names, ids, inputs, results, search attributes and attempt
// schedule that starters, workers and activities share, and the helpers that start
// them (RedeliveryStart, StartRedelivery). Workflow code here is deterministic: no I/O,
// no wall clock, no goroutines of its own.
package workflows

import (
	"fmt"
	"strconv"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the task queue of every Hookflow workflow and activity.
const TaskQueue = "hookflow"

// Workflow type names.
const (
	EventWorkflowName    = "EventWorkflow"
	DeliveryWorkflowName = "DeliveryWorkflow"
)

// Activity names; package activities registers its methods under these.
const (
	ActivityPrepareDeliveries = "PrepareDeliveries"
	ActivityDeliver           = "Deliver"
	ActivityFailDelivery      = "FailDelivery"
)

// SignalRelease wakes a delivery that waits because its subscriber was not active; the
// delivery checks the subscriber again and goes out, waits again, or is discarded.
const SignalRelease = "release"

// EventWorkflowID returns the workflow id of an event: the event id is the producer's
// idempotency key within a company, so accepting it twice starts one workflow.
func EventWorkflowID(companyID int64, eventID string) string {
	return "event:" + strconv.FormatInt(companyID, 10) + ":" + eventID
}

// DeliveryWorkflowID returns the workflow id of the delivery of an event to a subscriber.
// series counts redeliveries: 0 for the original delivery, n for the n-th redelivery.
func DeliveryWorkflowID(companyID int64, eventID string, subscriberID int64, series int) string {
	id := fmt.Sprintf("delivery:%d:%s:%d", companyID, eventID, subscriberID)
	if series > 0 {
		id += ":r" + strconv.Itoa(series)
	}
	return id
}

// Search attributes set on Hookflow's workflows, so that operators can find any delivery
// in Temporal UI, e.g. HookflowSubscriberId = "42" AND HookflowDeliveryStatus = "failed".
var (
	SearchEventSlug      = temporal.NewSearchAttributeKeyKeyword("HookflowEventSlug")
	SearchSubscriberID   = temporal.NewSearchAttributeKeyKeyword("HookflowSubscriberId")
	SearchCompanyID      = temporal.NewSearchAttributeKeyKeyword("HookflowCompanyId")
	SearchOrganizationID = temporal.NewSearchAttributeKeyKeyword("HookflowOrganizationId")
	SearchDeliveryStatus = temporal.NewSearchAttributeKeyKeyword("HookflowDeliveryStatus")
)

// deliveryAttributes are the search attributes a delivery's workflow starts with.
func deliveryAttributes(slug string, companyID, subscriberID int64, organizationID string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		SearchEventSlug.ValueSet(slug),
		SearchCompanyID.ValueSet(strconv.FormatInt(companyID, 10)),
		SearchSubscriberID.ValueSet(strconv.FormatInt(subscriberID, 10)),
		SearchOrganizationID.ValueSet(organizationID),
		SearchDeliveryStatus.ValueSet(OutcomePending),
	)
}

// SearchAttributes lists every custom search attribute with its type, for registration.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		SearchEventSlug.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchSubscriberID.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchCompanyID.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchOrganizationID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchDeliveryStatus.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

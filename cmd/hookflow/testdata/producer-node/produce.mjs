// A producer outside Hookflow: it starts EventWorkflow with the TypeScript SDK's client,
// as docs/PRODUCERS.md describes, bypassing the REST API. cmd/hookflow's TestNodeProducer
// runs it against a test stack.
//
// Standard input: {"address": "host:port", "namespace": "default", "events": [{"workflow_id"?: "…", "event": {…}}]}
// where each event is the workflow input's event (company_id, id, slug, payload, …)
// without accepted_at, which this script sets as a producer must. workflow_id defaults
// to the contract's event:<company_id>:<id>.
// Standard output: one JSON array, an entry per event in order:
// {"workflow_id", "status": "completed" | "failed" | "duplicate", "result"?, "failure"?: {"message", "type", "non_retryable", "details"}}
import { readFileSync } from 'node:fs';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import {
  ApplicationFailure,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
  defineSearchAttributeKey,
} from '@temporalio/common';

const eventSlug = defineSearchAttributeKey('HookflowEventSlug', SearchAttributeType.KEYWORD);
const companyId = defineSearchAttributeKey('HookflowCompanyId', SearchAttributeType.KEYWORD);

const spec = JSON.parse(readFileSync(0, 'utf8'));
const connection = await Connection.connect({ address: spec.address });
const client = new Client({ connection, namespace: spec.namespace });

// Start every event first, then wait for each: the malformed ones must fail on their
// own, without anything else happening.
const started = [];
for (const { workflow_id, event } of spec.events) {
  const workflowId = workflow_id ?? `event:${event.company_id}:${event.id}`;
  const input = { event: { ...event, accepted_at: new Date().toISOString() } };
  try {
    const handle = await client.workflow.start('EventWorkflow', {
      taskQueue: 'hookflow',
      workflowId,
      args: [input],
      // The id is the idempotency key: a started or completed event is a duplicate,
      // one that failed (an invalid input) may be sent again, corrected.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: eventSlug, value: String(event.slug) },
        { key: companyId, value: String(event.company_id) },
      ],
    });
    started.push({ workflowId, handle });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    started.push({ workflowId, duplicate: true });
  }
}

const out = [];
for (const { workflowId, handle, duplicate } of started) {
  if (duplicate) {
    out.push({ workflow_id: workflowId, status: 'duplicate' });
    continue;
  }
  try {
    out.push({ workflow_id: workflowId, status: 'completed', result: await handle.result() });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    out.push({
      workflow_id: workflowId,
      status: 'failed',
      failure: {
        message: cause?.message ?? err.message,
        type: cause instanceof ApplicationFailure ? cause.type : undefined,
        non_retryable: cause instanceof ApplicationFailure ? cause.nonRetryable : undefined,
        details: cause instanceof ApplicationFailure ? cause.details : undefined,
      },
    });
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
await connection.close();

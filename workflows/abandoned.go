package workflows

// AbandonedReason returns why a delivery ended whose own workflow closed with status
// (Temporal's status name without its prefix: TERMINATED, CANCELED, …) while the
// delivery was still under way: the workflow was stopped from outside Hookflow, or
// failed, and no code of the delivery recorded its end. It returns "" for a workflow
// that runs, completed, or continued as new.
func AbandonedReason(status string) string {
	switch status {
	case "TERMINATED":
		return "workflow terminated outside Hookflow"
	case "CANCELED":
		return "workflow cancelled outside Hookflow"
	case "TIMED_OUT":
		return "workflow timed out"
	case "FAILED":
		return "workflow failed"
	}
	return ""
}

package observe

// SetRecordBudget sets the weight of the reads that may wait for r's store before a newer read
// takes the place of its subaccount's newest waiting one; call it before publishing.
func SetRecordBudget(r *Recorder, n int) {
	r.mu.Lock()
	r.budget = n
	r.mu.Unlock()
}

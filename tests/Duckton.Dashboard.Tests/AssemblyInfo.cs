// The browser test starts a grid of real processes and chromium on a small machine: the in-process endpoint tests
// run after it, not beside it, so waits measure behaviour rather than CPU contention.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

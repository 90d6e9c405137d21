// The grid tests start real host processes on a small machine; running classes in parallel would make timeouts
// measure CPU contention instead of behaviour.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

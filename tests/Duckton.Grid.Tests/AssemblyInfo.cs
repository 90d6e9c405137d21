// The grid tests start real host processes on a small machine; running classes in parallel would make timeouts
// measure CPU contention instead of behaviour.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Duckton.Grid.Tests
{
    internal static class ThreadPoolFloor
    {
        /// <summary>
        /// The in-process requesters of these tests block pool threads on grid work, as the CLI's commands do; the node
        /// library leaves the thread pool to the program, so this test program sets the same floor the CLI sets.
        /// </summary>
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void Raise()
        {
            ThreadPool.GetMinThreads(out var workers, out var io);
            if (workers < 32)
            {
                ThreadPool.SetMinThreads(32, io);
            }
        }
    }
}

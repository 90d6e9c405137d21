using System.Diagnostics;

// The waits are deliberate: they happen on this test's own (non-pool) thread, so the checks need no pool thread.
#pragma warning disable xUnit1031

namespace Duckton.Library.Tests;

[CollectionDefinition(nameof(ThreadPoolLimited), DisableParallelization = true)]
public sealed class ThreadPoolLimited;

/// <summary>Runs alone (its collection is not parallel): it shrinks the process's thread pool.</summary>
[Collection(nameof(ThreadPoolLimited))]
public sealed class ConcurrencyTests : IDisposable
{
    private readonly TempDirs _dirs = new();

    public void Dispose() => _dirs.Dispose();

    [Fact]
    public void A_thousand_concurrent_queries_on_a_four_thread_pool_finish_without_deadlock_or_starvation()
    {
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.GetMaxThreads(out var maxWorkers, out var maxIo);
        Assert.True(ThreadPool.SetMinThreads(1, 1));
        Assert.True(ThreadPool.SetMaxThreads(4, 4));
        try
        {
            // Everything below is driven from this (non-pool) thread, so the checks themselves need no pool thread.
            using var node = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New(), MaxConcurrentOperations = 2 });
            // First, every pool thread is taken by a caller that blocks on a query (sync-over-async done by the user).
            // A library that ran its own work on the pool would deadlock here: nothing would be left to run it.
            var blockers = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(() =>
            {
                using var r = node.QueryAsync("SELECT sum(x) AS s FROM range(20000000) t(x)").GetAwaiter().GetResult();
                return r.RowCount;
            }, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default)).ToList();
            var all = Task.Run(async () =>
            {
                var queries = Enumerable.Range(0, 1000).Select(async i =>
                {
                    using var r = await node.QueryAsync($"SELECT {i} AS i, sum(x) AS s FROM range(100) t(x)");
                    var row = (await r.ToListAsync())[0];
                    return (int)row["i"]! == i && (Int128)row["s"]! == 4950;
                }).ToList();
                return await Task.WhenAll(queries);
            });
            // While they are in flight, the pool still runs other work promptly: no thread is blocked waiting on them.
            var probe = Stopwatch.StartNew();
            var ran = Task.Run(() => probe.Elapsed);
            Assert.True(ran.Wait(TimeSpan.FromSeconds(30)), "a pool work item did not run within 30 s: the pool is starved");
            Assert.True(all.Wait(TimeSpan.FromMinutes(3)), "1,000 queries did not finish within 3 minutes: deadlock or starvation");
            Assert.True(Task.WaitAll([.. blockers], TimeSpan.FromMinutes(1)));
            Assert.All(blockers, b => Assert.Equal(1, b.Result));
            Assert.Equal(1000, all.Result.Count(ok => ok));
            ThreadPool.GetAvailableThreads(out var available, out _);
            Assert.InRange(available, 0, 4);
        }
        finally
        {
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }
    }
}

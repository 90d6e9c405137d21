using Duckton.DuckDB.Functions;

namespace Duckton.Sql.Tests;

/// <summary>
/// Table-function binds run on bind threads while DuckDB's thread polls for an interrupt: a thread is reused from one
/// bind to the next (a thread started per <c>p2p_query</c> call cost more than a small query), concurrent binds each get
/// a thread of their own (a bind may block for seconds), and a bind's exception and execution context reach the caller.
/// </summary>
public sealed class BindThreadsTests
{
    private static readonly AsyncLocal<string?> s_flowed = new();

    [Fact]
    public async Task Sequential_binds_reuse_a_thread_concurrent_ones_do_not_wait_and_results_errors_and_context_arrive()
    {
        // One after the other: every bind after the first finds an idle thread (threads of other tests may serve too).
        var threads = new HashSet<int>();
        for (var i = 0; i < 50; i++)
        {
            threads.Add(await BindThreads.Run(() => Environment.CurrentManagedThreadId));
        }
        Assert.True(threads.Count < 10, $"{threads.Count} threads for 50 sequential binds");
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);

        // Eight binds that each wait until all eight run: on a fixed pool of fewer threads this would never finish.
        using var all = new CountdownEvent(8);
        var blocked = Enumerable.Range(0, 8).Select(i => BindThreads.Run(() =>
        {
            all.Signal();
            return all.Wait(TimeSpan.FromSeconds(20)) ? i : -1;
        })).ToArray();
        Assert.Equal(Enumerable.Range(0, 8), await Task.WhenAll(blocked));

        var failing = BindThreads.Run<int>(() => throw new InvalidOperationException("bind failed"));
        Assert.Equal("bind failed", (await Assert.ThrowsAsync<InvalidOperationException>(() => failing)).Message);

        s_flowed.Value = "caller's";
        Assert.Equal("caller's", await BindThreads.Run(() => s_flowed.Value));
    }
}

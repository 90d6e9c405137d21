using Duckton.Node.Grid;

namespace Duckton.Node.Tests;

/// <summary><c>scheduler.max_inflight_jobs</c>: at most that many grid queries are coordinated at once; the rest wait in order.</summary>
public sealed class InflightGateTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Admits_up_to_the_limit_and_wakes_waiters_in_arrival_order()
    {
        var gate = new InflightGate();
        var first = await gate.EnterAsync(2, CancellationToken.None);
        var second = await gate.EnterAsync(2, CancellationToken.None);
        var third = gate.EnterAsync(2, CancellationToken.None).AsTask();
        var fourth = gate.EnterAsync(2, CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(third.IsCompleted);
        Assert.False(fourth.IsCompleted);
        Assert.Equal(2, gate.Running);

        first.Dispose();
        var admitted = await third.WaitAsync(s_wait);
        Assert.False(fourth.IsCompleted);
        first.Dispose(); // a second dispose gives nothing back twice
        Assert.False(fourth.IsCompleted);

        second.Dispose();
        (await fourth.WaitAsync(s_wait)).Dispose();
        admitted.Dispose();
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_and_takes_no_slot()
    {
        var gate = new InflightGate();
        var held = await gate.EnterAsync(1, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(1, cts.Token).AsTask();
        var next = gate.EnterAsync(1, CancellationToken.None).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        held.Dispose();
        (await next.WaitAsync(s_wait)).Dispose();
        Assert.Equal(0, gate.Running);
        // A raised limit applies to the next entry at once.
        var a = await gate.EnterAsync(1, CancellationToken.None);
        var b = await gate.EnterAsync(2, CancellationToken.None).AsTask().WaitAsync(s_wait);
        a.Dispose();
        b.Dispose();
    }
}

using Duckton.Node.Grid;

namespace Duckton.Node.Tests;

/// <summary>The phi-accrual detector adapts to each peer's rhythm (<c>[liveness.phi]</c>).</summary>
public sealed class PhiAccrualTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static PhiAccrual Steady(int beats, TimeSpan every, PhiOptions options)
    {
        var d = new PhiAccrual();
        for (var i = 0; i < beats; i++)
        {
            d.Heartbeat(s_t0 + (every * i), options);
        }
        return d;
    }

    [Fact]
    public void Phi_rises_with_silence_relative_to_the_peers_own_rhythm()
    {
        var o = PhiOptions.Default;
        var fast = Steady(20, TimeSpan.FromMilliseconds(300), o);
        var last = s_t0 + TimeSpan.FromMilliseconds(300 * 19);
        Assert.True(fast.Phi(last + TimeSpan.FromMilliseconds(300), o) < 1, "on time");
        Assert.True(fast.Phi(last + TimeSpan.FromMilliseconds(1000), o) > 8, "three intervals late");
        // The same silence is nothing unusual for a peer heard from every 5 s.
        var slow = Steady(20, TimeSpan.FromSeconds(5), o);
        var slowLast = s_t0 + TimeSpan.FromSeconds(5 * 19);
        Assert.True(slow.Phi(slowLast + TimeSpan.FromMilliseconds(1000), o) < 0.1);
        Assert.True(slow.Phi(slowLast + TimeSpan.FromSeconds(8), o) > 8);
        // Monotone in the silence.
        var previous = 0.0;
        for (var ms = 0; ms < 3000; ms += 50)
        {
            var phi = fast.Phi(last + TimeSpan.FromMilliseconds(ms), o);
            Assert.True(phi >= previous - 1e-12, $"phi fell at {ms} ms");
            previous = phi;
        }
    }

    [Fact]
    public void Its_settings_change_what_counts_as_late()
    {
        var o = PhiOptions.Default;
        var d = Steady(20, TimeSpan.FromMilliseconds(300), o);
        var late = s_t0 + TimeSpan.FromMilliseconds((300 * 19) + 700);
        Assert.True(d.Phi(late, o) > 8);
        // An acceptable pause shifts the expectation; a wider minimum deviation flattens it.
        Assert.True(d.Phi(late, o with { AcceptablePause = TimeSpan.FromMilliseconds(600) }) < 1);
        Assert.True(d.Phi(late, o with { MinStd = TimeSpan.FromMilliseconds(1000) }) < 1);
        // Before any interval was measured, the assumed first interval sets the expectation.
        var fresh = new PhiAccrual();
        fresh.Heartbeat(s_t0, o);
        Assert.True(fresh.Phi(s_t0 + TimeSpan.FromSeconds(2), o with { FirstInterval = TimeSpan.FromSeconds(5) }) < 1);
        Assert.True(fresh.Phi(s_t0 + TimeSpan.FromSeconds(2), o with { FirstInterval = TimeSpan.FromMilliseconds(200) }) > 8);
        // A window of one interval forgets the old rhythm at once.
        var w = Steady(20, TimeSpan.FromSeconds(5), o with { WindowSize = 1 });
        var wLast = s_t0 + TimeSpan.FromSeconds(5 * 19);
        w.Heartbeat(wLast + TimeSpan.FromMilliseconds(100), o with { WindowSize = 1 });
        Assert.True(w.Phi(wLast + TimeSpan.FromMilliseconds(1100), o with { WindowSize = 1 }) > 8);
        Assert.Equal(0, new PhiAccrual().Phi(s_t0, o));
    }
}

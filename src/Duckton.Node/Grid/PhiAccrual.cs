namespace Duckton.Node.Grid;

/// <summary>The phi-accrual failure detector's parameters (<c>[liveness.phi]</c>).</summary>
public sealed record PhiOptions(int WindowSize, TimeSpan MinStd, TimeSpan AcceptablePause, TimeSpan FirstInterval)
{
    public static PhiOptions Default { get; } = new(100, TimeSpan.FromMilliseconds(50), TimeSpan.Zero, TimeSpan.FromSeconds(5));
}

/// <summary>
/// Phi-accrual failure detection for one peer: the intervals between fresh signs of life (a direct contact, or an
/// advert signed later than the last one seen) are kept in a sliding window; phi is how unlikely the silence since the
/// last sign is under a normal distribution of those intervals, as −log10 of the probability that a heartbeat comes
/// later still. phi 1 means a 10% chance the peer is merely slow, phi 8 one in 10^8. It adapts to each peer's rhythm
/// instead of a fixed timeout.
/// </summary>
internal sealed class PhiAccrual
{
    private readonly Lock _lock = new();
    private readonly Queue<double> _intervals = new();
    private double _sum;
    private double _sumSquares;
    private DateTimeOffset? _last;

    /// <summary>Records a sign of life at <paramref name="at"/> (older or equal times are ignored).</summary>
    public void Heartbeat(DateTimeOffset at, PhiOptions options)
    {
        lock (_lock)
        {
            if (_last is { } last)
            {
                if (at <= last)
                {
                    return;
                }
                var ms = (at - last).TotalMilliseconds;
                _intervals.Enqueue(ms);
                _sum += ms;
                _sumSquares += ms * ms;
                while (_intervals.Count > Math.Max(1, options.WindowSize))
                {
                    var old = _intervals.Dequeue();
                    _sum -= old;
                    _sumSquares -= old * old;
                }
            }
            _last = at;
        }
    }

    /// <summary>phi at <paramref name="now"/>; 0 before the first heartbeat.</summary>
    public double Phi(DateTimeOffset now, PhiOptions options)
    {
        double mean, std, elapsed;
        lock (_lock)
        {
            if (_last is not { } last)
            {
                return 0;
            }
            elapsed = Math.Max(0, (now - last).TotalMilliseconds);
            if (_intervals.Count == 0)
            {
                // No interval measured yet: assume the configured one, with a wide spread.
                mean = options.FirstInterval.TotalMilliseconds;
                std = mean / 4;
            }
            else
            {
                var n = _intervals.Count;
                mean = _sum / n;
                std = Math.Sqrt(Math.Max(0, (_sumSquares / n) - (mean * mean)));
            }
        }
        std = Math.Max(std, options.MinStd.TotalMilliseconds);
        mean += options.AcceptablePause.TotalMilliseconds;
        return PhiOf(elapsed, mean, std);
    }

    /// <summary>−log10 of P(interval &gt; elapsed) for a normal(mean, std), with the logistic approximation of its tail.</summary>
    internal static double PhiOf(double elapsed, double mean, double std)
    {
        var y = (elapsed - mean) / std;
        if (y < -8)
        {
            return 0; // far earlier than usual: the tail is 1 (and exp would overflow)
        }
        var e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
        return -Math.Log10(Math.Max(e / (1.0 + e), 1e-300));
    }
}

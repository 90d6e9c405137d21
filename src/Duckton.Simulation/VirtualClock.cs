namespace Duckton.Simulation;

/// <summary>
/// The simulator's clock: time moves only when the event loop advances it, so every simulated node's
/// <see cref="Duckton.Node.Grid.Membership"/> (TTL expiry, signing times, phi) runs on virtual time.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => (_now - DateTimeOffset.UnixEpoch).Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Moves the clock to <paramref name="to"/> (never backwards).</summary>
    public void AdvanceTo(DateTimeOffset to)
    {
        if (to > _now)
        {
            _now = to;
        }
    }
}

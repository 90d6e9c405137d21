using System.Globalization;
using System.Text;
using Duckton.Node.Grid;

namespace Duckton.Cli;

/// <summary>
/// A one-line progress indicator on stderr for statements that run longer than <see cref="Delay"/>: DuckDB's own
/// query progress as a bar when DuckDB knows it, a spinner with the phase of a remote query (offers, commits, quorum,
/// verified rows) while <c>p2p_query</c> waits on the grid. The shell only creates it when stderr is a terminal, so
/// piped output never sees it; the line is erased before any result is written.
/// </summary>
internal sealed class ProgressDisplay(SqlSession session, TextWriter error, TimeProvider time) : IStatementWatcher
{
    private static readonly string[] s_spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(100);
    private const int BarWidth = 30;
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private long _started;
    private bool _active;
    private bool _drawn;
    private int _frame;

    /// <summary>How long a statement runs before the indicator appears (DuckDB's CLI waits about as long).</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromSeconds(1);

    public void Started()
    {
        lock (_gate)
        {
            _started = time.GetTimestamp();
            _active = true;
            _frame = 0;
            _timer ??= time.CreateTimer(_ => Tick(), null, s_tick, s_tick);
        }
    }

    public void Executed() => Stop();

    public void Finished()
    {
    }

    /// <summary>Stops drawing and erases the line.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _active = false;
            _timer?.Dispose();
            _timer = null;
            if (_drawn)
            {
                error.Write("\r\u001b[2K");
                error.Flush();
                _drawn = false;
            }
        }
    }

    private void Tick()
    {
        try
        {
            lock (_gate)
            {
                var elapsed = time.GetElapsedTime(_started);
                if (!_active || elapsed < Delay)
                {
                    return;
                }
                error.Write("\r" + Line(elapsed) + "\u001b[K");
                error.Flush();
                _drawn = true;
                _frame++;
            }
        }
        catch (Exception)
        {
            // A display that cannot draw (closed terminal) must not take the shell down from a timer thread.
        }
    }

    private string Line(TimeSpan elapsed)
    {
        var seconds = elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
        var spin = s_spinner[_frame % s_spinner.Length];
        if (session.GridPhase is { } g)
        {
            return $"{spin} grid: {Describe(g)}  {seconds}";
        }
        var p = session.Progress();
        if (p.Percentage >= 0)
        {
            var pct = Math.Clamp(p.Percentage, 0, 100);
            var filled = (int)Math.Round(pct / 100 * BarWidth);
            var bar = new StringBuilder().Append('█', filled).Append('░', BarWidth - filled);
            return $"{pct,3:0}% ▕{bar}▏ {seconds}";
        }
        return $"{spin} running  {seconds}";
    }

    /// <summary>The phase of a remote query in words, e.g. <c>commits 1/2 (3 hosts)</c>.</summary>
    public static string Describe(GridProgress g) => g.Phase switch
    {
        GridPhase.Offers => $"offers sent to {g.Hosts} host{(g.Hosts == 1 ? "" : "s")}, waiting for commits",
        GridPhase.Commits => $"commits {g.Commits}/{g.Quorum} ({g.Hosts} host{(g.Hosts == 1 ? "" : "s")})",
        GridPhase.Quorum => $"quorum {g.Commits}/{g.Quorum} reached, fetching verified rows",
        _ => $"{g.Rows.ToString("N0", CultureInfo.InvariantCulture)} verified rows",
    };
}

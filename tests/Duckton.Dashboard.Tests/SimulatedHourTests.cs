using System.Diagnostics;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Duckton.Core.Crypto;
using Duckton.Core.Trust;
using Duckton.DuckDB.Native;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Sql;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Duckton.Dashboard.Tests;

/// <summary>
/// A page left open for an hour, with SIMULATED time: the event stream's clock (its 1 s refresh and 15 s heartbeat) is
/// a <see cref="FakeTimeProvider"/> advanced one second at a time, 3,600 times, against a real node, trust store and
/// Kestrel. Something changes every simulated second, so every tick is a real push read off the socket.
/// </summary>
public sealed class SimulatedHourTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-dashboard-hour-").FullName;
    private readonly string _worker = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(20) };
    private NodeHost _host = null!;
    private DashboardServer _server = null!;

    public async Task InitializeAsync()
    {
        DuckDBNative.InitializeFromLibrary();
        _host = new NodeHost(_dir, n => n.StartsWith("P2P_", StringComparison.Ordinal) ? null : Environment.GetEnvironmentVariable(n));
        var seen = DateTimeOffset.UtcNow;
        _host.Trust.NotePeer(new KnownPeer(_worker, "127.0.0.1:1", 0, 1 << 30, 2, 2, "", true, seen, seen, null));
        for (var i = 0; i < 20; i++)
        {
            _host.Node.Trust.Issue($"job-{i}", "q", [new HostVerdict(_worker, Verdict.Correct, "r", 1, 5 + i, 10, null)]);
        }
        _host.Trust.Flush();
        // The defaults a user gets: 1 s refresh, 15 s heartbeat; only the clock is simulated.
        _server = await DashboardServer.StartAsync(_host, new DashboardOptions(new IPEndPoint(IPAddress.Loopback, 0)), _time);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _host.Dispose();
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task An_hour_of_simulated_time_is_3600_pushes_in_bounded_memory_and_the_stream_stays_live()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        using var stream = await _http.GetStreamAsync(new Uri(_server.Url, "api/events"), cts.Token);
        using var reader = new StreamReader(stream);
        // A pump reads the socket; the test takes events from it (so it can also wait a bounded time for heartbeats).
        var events = Channel.CreateUnbounded<string>();
        var pump = Task.Run(async () =>
        {
            var sb = new StringBuilder();
            try
            {
                while (await reader.ReadLineAsync(cts.Token) is { } line)
                {
                    if (line.Length > 0)
                    {
                        sb.AppendLine(line);
                    }
                    else if (sb.Length > 0)
                    {
                        events.Writer.TryWrite(sb.ToString());
                        sb.Clear();
                    }
                }
            }
            finally
            {
                events.Writer.TryComplete();
            }
        });
        var heartbeats = 0;
        bool IsBeat(string e)
        {
            var beat = e.StartsWith(": heartbeat", StringComparison.Ordinal);
            heartbeats += beat ? 1 : 0;
            return beat;
        }
        async Task<string> NextSnapshot()
        {
            while (true)
            {
                var e = await events.Reader.ReadAsync(cts.Token);
                if (!IsBeat(e))
                {
                    return e;
                }
            }
        }
        var first = await NextSnapshot();
        Assert.StartsWith("event: snapshot", first, StringComparison.Ordinal);
        Assert.Contains("\"drift\":{\"partitions\":0,", first, StringComparison.Ordinal);

        // One simulated hour: each second a drift partition is recorded in the trust store (a change the page shows),
        // the clock moves 1 s, and the pushed snapshot must carry exactly that change.
        const int Seconds = 3600;
        long baseline = 0;
        long bytes = 0;
        var watch = Stopwatch.StartNew();
        for (var s = 1; s <= Seconds; s++)
        {
            _host.Trust.RecordDrift($"hour-{s}", 1);
            _time.Advance(TimeSpan.FromSeconds(1));
            var e = await NextSnapshot();
            Assert.StartsWith("event: snapshot", e, StringComparison.Ordinal);
            Assert.Contains($"\"drift\":{{\"partitions\":{s},", e, StringComparison.Ordinal);
            bytes += e.Length;
            if (s == 300)
            {
                // After warm-up (JIT, pools, the first store reads): from here on the total must stay flat.
                baseline = GC.GetTotalMemory(forceFullCollection: true);
            }
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"{Seconds} pushes ({bytes >> 20} MiB of events) in {watch.Elapsed.TotalSeconds:0} s real time; managed memory {baseline >> 20} -> {after >> 20} MiB");
        // 55 minutes of pushes carried far more than the bound; a stream or hub that kept them would exceed it.
        Assert.True(bytes * 55 / 60 > 16L << 20, $"the pushes carried only {bytes} bytes: the bound below would not tell a leak");
        Assert.True(after - baseline < 16L << 20, $"managed memory grew by {(after - baseline) >> 20} MiB over the simulated hour");
        // No idle 15 s passed (something changed every second), so no heartbeat was due.
        Assert.Equal(0, heartbeats);

        // Still live after the hour: idle simulated seconds bring heartbeats (one per 15 s; the pause lets the stream
        // arm its next one), then a change is pushed at once.
        for (var s = 0; s < 300 && heartbeats < 3; s++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20, cts.Token);
            while (events.Reader.TryRead(out var e))
            {
                Assert.True(IsBeat(e) || e.Contains($"\"drift\":{{\"partitions\":{Seconds},", StringComparison.Ordinal), "an idle second pushed a change: " + e[..Math.Min(200, e.Length)]);
            }
        }
        Assert.True(heartbeats >= 3, $"only {heartbeats} heartbeats in up to 300 idle simulated seconds (one is due every 15 s)");
        _host.Trust.RecordDrift("after-the-hour", 2);
        var live = Stopwatch.StartNew();
        string last;
        do
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            last = await NextSnapshot();
        }
        while (!last.Contains($"\"drift\":{{\"partitions\":{Seconds + 2},", StringComparison.Ordinal) && live.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Contains($"\"drift\":{{\"partitions\":{Seconds + 2},", last, StringComparison.Ordinal);
        Assert.Equal(1, _server.OpenStreams);
        Assert.False(pump.IsCompleted, "the stream ended");
        using var summary = await _http.GetAsync(new Uri(_server.Url, "api/summary"));
        Assert.Equal(HttpStatusCode.OK, summary.StatusCode);
    }
}

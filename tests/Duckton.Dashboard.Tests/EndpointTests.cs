using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Duckton.Core.Crypto;
using Duckton.Core.Trust;
using Duckton.Dashboard;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Sql;

namespace Duckton.Dashboard.Tests;

/// <summary>
/// The dashboard's HTTP surface over a real node (temporary config dir, real trust store with signed receipts) and a
/// real Kestrel on loopback: numbers equal the SQL functions', bad input is a clear 4xx, nothing secret leaves, the
/// event stream stays bounded.
/// </summary>
public sealed class EndpointTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-dashboard-").FullName;
    private readonly string _good = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);
    private readonly string _bad = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private NodeHost _host = null!;
    private DuckDBDatabase _db = null!;
    private DashboardServer _server = null!;

    public async Task InitializeAsync()
    {
        DuckDBNative.InitializeFromLibrary();
        _host = new NodeHost(_dir, n => n.StartsWith("P2P_", StringComparison.Ordinal) ? null : Environment.GetEnvironmentVariable(n));
        _db = DuckDBDatabase.Open(null);
        using (var c = _db.Connect())
        {
            SqlSurface.Register(c.Value, _host);
        }
        var seen = DateTimeOffset.UtcNow;
        foreach (var id in new[] { _good, _bad })
        {
            _host.Trust.NotePeer(new KnownPeer(id, "127.0.0.1:1", 0, 1 << 30, 2, 2, "", true, seen, seen, null));
        }
        var engine = _host.Node.Trust;
        for (var i = 0; i < 24; i++)
        {
            engine.Issue($"job-{i}", "q", [new HostVerdict(_good, Verdict.Correct, "r", 1, 5 + i, 10, null), new HostVerdict(_bad, i % 4 == 0 ? Verdict.Incorrect : Verdict.Correct, i % 4 == 0 ? "x" : "r", 1, 7, 10, null)]);
        }
        _host.Trust.Flush();
        _server = await DashboardServer.StartAsync(_host, new DashboardOptions(new IPEndPoint(IPAddress.Loopback, 0), RefreshInterval: TimeSpan.FromMilliseconds(50), Heartbeat: TimeSpan.FromMilliseconds(50), MaxStreams: 3));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _db.Dispose();
        _host.Dispose();
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private List<string?[]> Sql(string sql)
    {
        using var c = _db.Connect();
        using var r = c.QueryAll($"SELECT COLUMNS(*)::VARCHAR FROM ({sql})");
        var rows = new List<string?[]>();
        foreach (var b in r.Batches)
        {
            for (var i = 0; i < b.RowCount; i++)
            {
                rows.Add([.. b.Columns.Select(col => col.IsValid(i) ? Encoding.UTF8.GetString(col.GetBytes(i)) : null)]);
            }
        }
        return rows;
    }

    private async Task<JsonElement> Get(string path)
    {
        using var r = await _http.GetAsync(new Uri(_server.Url, path));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static double D(string? s) => double.Parse(s!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Headline_numbers_and_per_host_terms_equal_what_the_sql_functions_return()
    {
        var summary = await Get("api/summary");
        var peers = Sql("SELECT avg(trust), count(*) FILTER (flagged), count(*) FILTER (attestation LIKE 'L2%'), count(*) FROM p2p_peers()")[0];
        Assert.Equal(D(peers[0]), summary.GetProperty("avg_trust").GetDouble(), 9);
        Assert.Equal(int.Parse(peers[1]!, CultureInfo.InvariantCulture), summary.GetProperty("flagged").GetInt32());
        Assert.Equal(1, summary.GetProperty("flagged").GetInt32()); // the host with wrong answers
        Assert.Equal(int.Parse(peers[2]!, CultureInfo.InvariantCulture), summary.GetProperty("l2_hosts").GetInt32());
        Assert.Equal(2, summary.GetProperty("workers").GetInt32());
        var receipts = Sql("SELECT count(*), count(*) FILTER (verdict = 'Correct') FROM p2p_receipts(max_rows => 1000000)")[0];
        Assert.Equal("48", receipts[0]);
        Assert.Equal(int.Parse(receipts[0]!, CultureInfo.InvariantCulture), summary.GetProperty("receipts").GetInt32());
        Assert.Equal(int.Parse(receipts[1]!, CultureInfo.InvariantCulture), summary.GetProperty("correct").GetInt32());
        Assert.Equal(D(receipts[1]) / D(receipts[0]), summary.GetProperty("correct_rate").GetDouble(), 12);

        // Every term of every host: the page's rows are p2p_trust_terms()'s rows.
        var terms = Sql("SELECT node_id, effective_trust, reputation, age_factor, voucher, stake_factor, penalty, soft_score, exploration_bonus FROM p2p_trust_terms() ORDER BY node_id");
        var page = (await Get("api/peers")).EnumerateArray().OrderBy(p => p.GetProperty("node_id").GetString(), StringComparer.Ordinal).ToList();
        Assert.Equal(terms.Count, page.Count);
        for (var i = 0; i < terms.Count; i++)
        {
            Assert.Equal(terms[i][0], page[i].GetProperty("node_id").GetString());
            foreach (var (col, name) in new[] { (1, "trust"), (2, "reputation"), (3, "age_factor"), (4, "voucher"), (5, "stake_factor"), (6, "penalty"), (7, "soft_score"), (8, "exploration_bonus") })
            {
                Assert.Equal(D(terms[i][col]), page[i].GetProperty(name).GetDouble(), 12);
            }
        }

        // The worked example is the top unflagged host, its products the terms × the configured weights.
        var worked = await Get("api/worked-example");
        Assert.Equal(_good, worked.GetProperty("node_id").GetString());
        var products = worked.GetProperty("terms").EnumerateArray().Select(t => t.GetProperty("value").GetDouble() * t.GetProperty("weight").GetDouble()).Sum();
        Assert.Equal(Math.Clamp(products - worked.GetProperty("penalty").GetDouble(), 0, 1), worked.GetProperty("soft_score").GetDouble(), 12);
        var formula = await Get("api/formula");
        Assert.Equal(0.7, formula.GetProperty("alpha").GetDouble());
        Assert.Equal(7, formula.GetProperty("half_life_days").GetDouble());

        // The order-independence demo really hashed two orders of the same rows in the node's engine.
        var order = (await Get("api/verification")).GetProperty("order_independence");
        Assert.True(order.GetProperty("equal").GetBoolean());
        Assert.Matches("^[0-9a-f]{64}$", order.GetProperty("hash").GetString());
        var flagged = Assert.Single((await Get("api/flagged")).EnumerateArray());
        Assert.Equal(_bad, flagged.GetProperty("node_id").GetString());
        Assert.Equal(6, flagged.GetProperty("faults").GetInt32());
    }

    [Fact]
    public async Task Bad_requests_are_clear_4xx_answers_and_the_server_keeps_serving()
    {
        async Task Expect(HttpStatusCode status, string path, string says, HttpMethod? method = null)
        {
            using var r = await _http.SendAsync(new HttpRequestMessage(method ?? HttpMethod.Get, new Uri(_server.Url, path)));
            Assert.Equal(status, r.StatusCode);
            Assert.Contains(says, await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await Expect(HttpStatusCode.NotFound, "no/such/page", "no such page");
        await Expect(HttpStatusCode.NotFound, "api/nothing", "no such page");
        await Expect(HttpStatusCode.BadRequest, "api/summary?x=1", "unknown parameter 'x'");
        await Expect(HttpStatusCode.BadRequest, "api/receipts?limit=abc", "limit must be a whole number");
        await Expect(HttpStatusCode.BadRequest, "api/receipts?limit=0", "limit must be a whole number");
        await Expect(HttpStatusCode.BadRequest, "api/receipts?limit=5&limit=6", "limit must be a whole number");
        await Expect(HttpStatusCode.BadRequest, "api/receipts?worker=nope", "worker must be one node id");
        await Expect(HttpStatusCode.BadRequest, "api/summary?" + new string('a', 5000) + "=1", "query string too long");
        await Expect(HttpStatusCode.BadRequest, "api/summary?%zz", "");
        await Expect(HttpStatusCode.MethodNotAllowed, "api/summary", "read-only", HttpMethod.Post);
        await Expect(HttpStatusCode.MethodNotAllowed, "", "read-only", HttpMethod.Delete);
        // Good requests still work after all that.
        var three = await Get("api/receipts?limit=3");
        Assert.Equal(3, three.GetArrayLength());
        var mine = await Get($"api/receipts?worker={_bad}&limit=50");
        Assert.All(mine.EnumerateArray(), r => Assert.Equal(_bad, r.GetProperty("worker_id").GetString()));
        Assert.Equal(24, mine.GetArrayLength());
        using var page = await _http.GetAsync(_server.Url);
        Assert.Equal("text/html; charset=utf-8", page.Content.Headers.ContentType?.ToString());
        using var favicon = await _http.GetAsync(new Uri(_server.Url, "favicon.ico"));
        Assert.Equal(HttpStatusCode.OK, favicon.StatusCode);
        using var plotly = await _http.GetAsync(new Uri(_server.Url, "plotly.min.js"));
        Assert.True((await plotly.Content.ReadAsByteArrayAsync()).Length > 1_000_000, "plotly is embedded and served locally");
    }

    [Fact]
    public async Task Non_loopback_binds_are_refused_unless_asked_for()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => DashboardServer.StartAsync(_host, new DashboardOptions(new IPEndPoint(IPAddress.Any, 0))));
        Assert.Contains("not loopback", e.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-remote", e.Message, StringComparison.Ordinal);
        await using var open = await DashboardServer.StartAsync(_host, new DashboardOptions(new IPEndPoint(IPAddress.Any, 0), AllowNonLoopback: true));
        using var r = await _http.GetAsync(new Uri($"http://127.0.0.1:{open.Url.Port}/api/summary"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(IPAddress.Loopback, DashboardOptions.ParseListen("localhost:80").Address);
        Assert.Throws<ArgumentException>(() => DashboardOptions.ParseListen("127.0.0.1"));
        Assert.Throws<ArgumentException>(() => DashboardOptions.ParseListen("example:80"));
    }

    [Fact]
    public async Task No_response_carries_the_node_key_or_any_configured_secret()
    {
        // The key file holds the Ed25519 seed as hex: neither it nor any 8-byte window of it, in hex or base64, may leave.
        var seed = Convert.FromHexString((await File.ReadAllTextAsync(Path.Combine(_dir, "node_key"))).Trim());
        Assert.Equal(32, seed.Length);
        var forbidden = new List<string> { Convert.ToBase64String(seed) };
        for (var i = 0; i + 8 <= seed.Length; i += 4)
        {
            forbidden.Add(Convert.ToHexStringLower(seed.AsSpan(i, 8)));
        }
        foreach (var path in new[] { "", "app.js", "api/dashboard", "api/summary", "api/peers", "api/receipts", "api/formula", "api/worked-example", "api/attestation", "api/selection", "api/verification", "api/flagged", "api/radar", "api/latency-ms", "api/node", "nope" })
        {
            using var response = await _http.GetAsync(new Uri(_server.Url, path));
            var body = await response.Content.ReadAsStringAsync();
            foreach (var f in forbidden)
            {
                Assert.DoesNotContain(f, body, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task The_event_stream_pushes_changes_beats_when_idle_caps_streams_and_holds_no_backlog()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stream = await _http.GetStreamAsync(new Uri(_server.Url, "api/events"), cts.Token);
        using var reader = new StreamReader(stream);
        async Task<string> NextEvent()
        {
            var sb = new StringBuilder();
            while (await reader.ReadLineAsync(cts.Token) is { } line)
            {
                if (line.Length == 0 && sb.Length > 0)
                {
                    return sb.ToString();
                }
                sb.AppendLine(line);
            }
            throw new EndOfStreamException();
        }
        // Heartbeats may come first while the first snapshot is computed (the node starts on first use).
        string first;
        do
        {
            first = await NextEvent();
        }
        while (first.StartsWith(": heartbeat", StringComparison.Ordinal));
        Assert.StartsWith("event: snapshot", first, StringComparison.Ordinal);
        Assert.Contains("\"receipts\":48", first, StringComparison.Ordinal);
        // Heartbeats keep an idle stream open. (Snapshots still come now and then: reputation is recency-weighted, so
        // trust drifts in its last digits as time passes, and the page shows the exact engine numbers.)
        var beats = 0;
        for (var i = 0; i < 40 && beats < 3; i++)
        {
            beats += (await NextEvent()).StartsWith(": heartbeat", StringComparison.Ordinal) ? 1 : 0;
        }
        Assert.Equal(3, beats);
        // A new receipt.
        _host.Node.Trust.Issue("job-live", "q", [new HostVerdict(_good, Verdict.Correct, "r", 1, 5, 10, null)]);
        // Pushed without asking (within a bounded number of events: heartbeats and decay-only snapshots may come first).
        var pushed = false;
        for (var i = 0; i < 400 && !pushed; i++)
        {
            var e = await NextEvent();
            pushed = e.StartsWith("event: snapshot", StringComparison.Ordinal) && e.Contains("\"receipts\":49,", StringComparison.Ordinal);
        }
        Assert.True(pushed, "no snapshot with the new receipt was pushed");

        // Streams are capped (the 4th of at most 3 is refused), and closed ones are released.
        using var second = await _http.GetAsync(new Uri(_server.Url, "api/events"), HttpCompletionOption.ResponseHeadersRead);
        using var third = await _http.GetAsync(new Uri(_server.Url, "api/events"), HttpCompletionOption.ResponseHeadersRead);
        using (var fourth = await _http.GetAsync(new Uri(_server.Url, "api/events"), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, fourth.StatusCode);
        }
        second.Dispose();
        third.Dispose();

        // An hour of a page left open, compressed: heartbeats and pushes every 50 ms for 8 s is ~160 updates, more than an
        // hour of 15 s heartbeats (240) would hold per minute of wall time. A stream never queues, so memory stays flat.
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var events = 0;
        var until = DateTime.UtcNow.AddSeconds(8);
        while (DateTime.UtcNow < until)
        {
            _host.Node.Trust.Issue($"job-churn-{events}", "q", [new HostVerdict(_good, Verdict.Correct, "r", 1, 5, 10, null)]);
            await NextEvent();
            events++;
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(events > 50, $"only {events} events in 8 s");
        Assert.True(after - before < 32L << 20, $"managed memory grew by {(after - before) >> 20} MB over {events} events");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_server.OpenStreams > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1, _server.OpenStreams);
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Duckton.Sql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Duckton.Dashboard;

/// <summary>How the dashboard is served.</summary>
/// <param name="Listen">Address and port; port 0 picks a free one. Loopback unless <paramref name="AllowNonLoopback"/>.</param>
/// <param name="AllowNonLoopback">Serve on a non-loopback address (the page is read-only, but it shows the grid's state).</param>
/// <param name="RefreshInterval">How often the live view re-reads the trust store while a page is open.</param>
/// <param name="Heartbeat">How often an idle event stream gets a comment line (keeps proxies and the browser from dropping it).</param>
/// <param name="MaxStreams">Event streams open at once; more get 503 (memory stays bounded however many tabs are left open).</param>
public sealed record DashboardOptions(IPEndPoint Listen, bool AllowNonLoopback = false, TimeSpan? RefreshInterval = null, TimeSpan? Heartbeat = null, int MaxStreams = 16)
{
    /// <summary>Longest query string accepted; longer is a 400.</summary>
    public const int MaxQueryLength = 1024;

    public TimeSpan Refresh => RefreshInterval ?? TimeSpan.FromSeconds(1);
    public TimeSpan HeartbeatInterval => Heartbeat ?? TimeSpan.FromSeconds(15);

    /// <summary>Parses <c>HOST:PORT</c> (IPv4, <c>[IPv6]:PORT</c> or <c>localhost:PORT</c>).</summary>
    public static IPEndPoint ParseListen(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"--listen '{text}' is not HOST:PORT, e.g. 127.0.0.1:8080");
        }
        var host = text[..colon].Trim('[', ']');
        var address = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var a) ? a
            : throw new ArgumentException($"--listen '{text}': '{host}' is not an IP address (or localhost)");
        return new IPEndPoint(address, port);
    }
}

/// <summary>
/// The Trust &amp; Attestation dashboard: Kestrel (ASP.NET Core's shared framework) serving the embedded page, its JSON
/// endpoints and a server-sent event stream, all read-only, all computed by <see cref="DashboardData"/>.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };
    private static readonly HashSet<string> s_sections = ["summary", "formula", "worked_example", "attestation", "selection", "verification", "peers", "receipts", "flagged", "radar", "latency_ms", "node"];

    private readonly WebApplication _app;
    private readonly SnapshotHub _hub;

    private DashboardServer(WebApplication app, SnapshotHub hub, Uri url)
    {
        _app = app;
        _hub = hub;
        Url = url;
    }

    /// <summary>Where the page is, e.g. <c>http://127.0.0.1:8080/</c>.</summary>
    public Uri Url { get; }

    /// <summary>Event streams open now.</summary>
    public int OpenStreams => _hub.Streams;

    /// <summary>Starts serving <paramref name="host"/>'s view; throws <see cref="ArgumentException"/> for a refused bind.</summary>
    public static async Task<DashboardServer> StartAsync(NodeHost host, DashboardOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        if (!IPAddress.IsLoopback(options.Listen.Address) && !options.AllowNonLoopback)
        {
            throw new ArgumentException($"refusing to serve the dashboard on {options.Listen} (not loopback); it shows this grid's state to whoever connects. "
                + "Pass --allow-remote to do it anyway, or listen on 127.0.0.1");
        }
        time ??= TimeProvider.System;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(options.Listen);
            // Long query strings reach our own check (a clear 400) instead of Kestrel's bare 414.
            k.Limits.MaxRequestLineSize = 64 * 1024;
            k.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        // The process that hosts the dashboard owns SIGINT/SIGTERM (duckton dashboard, grid up): the default console
        // lifetime would take them and stop only the web server.
        builder.Services.AddSingleton<IHostLifetime, ProcessOwnedLifetime>();
        var app = builder.Build();
        var data = new DashboardData(host, time);
        var hub = new SnapshotHub(data, options, time);
        Map(app, data, hub, options);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DashboardServer(app, hub, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/"));
    }

    private static void Map(WebApplication app, DashboardData data, SnapshotHub hub, DashboardOptions options)
    {
        app.Use(async (ctx, next) =>
        {
            // Read-only: nothing but GET/HEAD. Queries are small and only the documented parameters mean anything.
            if (!HttpMethods.IsGet(ctx.Request.Method) && !HttpMethods.IsHead(ctx.Request.Method))
            {
                ctx.Response.Headers.Allow = "GET, HEAD";
                await Problem(ctx, StatusCodes.Status405MethodNotAllowed, "the dashboard is read-only: only GET and HEAD").ConfigureAwait(false);
                return;
            }
            if (ctx.Request.QueryString.Value is { Length: > DashboardOptions.MaxQueryLength } q)
            {
                await Problem(ctx, StatusCodes.Status400BadRequest, $"query string too long ({q.Length} characters; at most {DashboardOptions.MaxQueryLength})").ConfigureAwait(false);
                return;
            }
            ctx.Response.Headers.XContentTypeOptions = "nosniff";
            ctx.Response.Headers.CacheControl = "no-store";
            // The page loads nothing from anywhere else (works offline; no CDN).
            ctx.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";
            await next(ctx).ConfigureAwait(false);
        });
        app.UseRouting();

        foreach (var (path, resource, type) in new[]
        {
            ("/", "index.html", "text/html; charset=utf-8"),
            ("/index.html", "index.html", "text/html; charset=utf-8"),
            ("/app.js", "app.js", "text/javascript; charset=utf-8"),
            ("/style.css", "style.css", "text/css; charset=utf-8"),
            ("/plotly.min.js", "plotly.min.js", "text/javascript; charset=utf-8"),
            ("/favicon.svg", "favicon.svg", "image/svg+xml"),
            ("/favicon.ico", "favicon.svg", "image/svg+xml"),
        })
        {
            var bytes = Asset(resource);
            app.MapGet(path, (HttpContext ctx) => NoQuery(ctx) ?? Results.Bytes(bytes, type));
        }

        app.MapGet("/api/dashboard", (HttpContext ctx) => NoQuery(ctx) ?? Json(data.Snapshot()));
        foreach (var section in s_sections.Where(s => s != "receipts"))
        {
            app.MapGet("/api/" + section.Replace('_', '-'), (HttpContext ctx) => NoQuery(ctx) ?? Json(data.Snapshot()[section]));
        }
        app.MapGet("/api/receipts", (HttpContext ctx) =>
        {
            if (Unknown(ctx, "limit", "worker") is { } bad)
            {
                return bad;
            }
            var limit = DashboardData.ReceiptRows;
            if (ctx.Request.Query.TryGetValue("limit", out var l)
                && (l.Count != 1 || !int.TryParse(l[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > DashboardData.ReceiptRows))
            {
                return Results.Json(new { error = $"limit must be a whole number 1..{DashboardData.ReceiptRows}, e.g. /api/receipts?limit=10" }, statusCode: 400);
            }
            string? worker = null;
            if (ctx.Request.Query.TryGetValue("worker", out var w))
            {
                worker = w.Count == 1 ? w[0] : null;
                if (worker is null || !Duckton.Core.Trust.NodeIds.IsValid(worker))
                {
                    return Results.Json(new { error = "worker must be one node id: 'b3:' followed by 64 lowercase hex digits" }, statusCode: 400);
                }
            }
            var rows = data.Snapshot()["receipts"]!.AsArray().Where(r => worker is null || (string?)r!["worker_id"] == worker).Take(limit).Select(r => r!.DeepClone());
            return Json(new JsonArray([.. rows]));
        });
        app.MapGet("/api/events", (HttpContext ctx) => NoQuery(ctx) is { } bad ? bad.ExecuteAsync(ctx) : hub.StreamAsync(ctx));
        app.MapFallback((HttpContext ctx) => Results.Json(new { error = $"no such page: {ctx.Request.Path}; the dashboard is at / and its data under /api/ (docs/DASHBOARD.md)" }, statusCode: 404));
    }

    private static IResult Json(JsonNode? node) => Results.Text(node?.ToJsonString(s_json) ?? "null", "application/json; charset=utf-8", Encoding.UTF8);

    private static IResult? NoQuery(HttpContext ctx) => Unknown(ctx);

    /// <summary>A 400 naming the first query parameter the endpoint does not take, or null.</summary>
    private static IResult? Unknown(HttpContext ctx, params string[] allowed)
    {
        var raw = ctx.Request.QueryString.Value ?? "";
        if (raw.Length > 1 && ctx.Request.Query.Count == 0)
        {
            return Results.Json(new { error = $"malformed query string '{Truncate(raw)}'" }, statusCode: 400);
        }
        foreach (var key in ctx.Request.Query.Keys)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                var takes = allowed.Length == 0 ? "takes no parameters" : "takes only " + string.Join(", ", allowed);
                return Results.Json(new { error = $"unknown parameter '{Truncate(key)}': {ctx.Request.Path} {takes}" }, statusCode: 400);
            }
        }
        return null;
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";

    private static Task Problem(HttpContext ctx, int status, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(new { error = message }));
    }

    private static byte[] Asset(string name)
    {
        using var s = typeof(DashboardServer).Assembly.GetManifestResourceStream("wwwroot/" + name)
            ?? throw new InvalidOperationException($"dashboard asset {name} is not embedded (build src/Duckton.Dashboard; plotly comes from eng/dashboard-assets.sh)");
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        _hub.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A host lifetime that leaves signals to the process: starting and stopping are the caller's calls.</summary>
internal sealed class ProcessOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Feeds every open event stream from one shared snapshot: re-read once per refresh interval while any stream is open,
/// and sent only when something changed. A stream holds only the latest snapshot (no per-client queue), so memory is
/// bounded however long a page stays open or however slowly it reads.
/// </summary>
internal sealed class SnapshotHub : IDisposable
{
    private readonly DashboardData _data;
    private readonly DashboardOptions _options;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private int _streams;
    private Task? _loop;
    private (long Version, string Json) _latest = (0, "");
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SnapshotHub(DashboardData data, DashboardOptions options, TimeProvider time)
    {
        _data = data;
        _options = options;
        _time = time;
    }

    public int Streams => Volatile.Read(ref _streams);

    public async Task StreamAsync(HttpContext ctx)
    {
        if (Interlocked.Increment(ref _streams) > _options.MaxStreams)
        {
            Interlocked.Decrement(ref _streams);
            ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await ctx.Response.WriteAsync($"{{\"error\":\"too many open event streams (at most {_options.MaxStreams})\"}}").ConfigureAwait(false);
            return;
        }
        try
        {
            EnsureLoop();
            var ct = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stop.Token);
            using (ct)
            {
                ctx.Response.ContentType = "text/event-stream";
                ctx.Response.Headers.CacheControl = "no-store";
                long sent = -1;
                while (!ct.IsCancellationRequested)
                {
                    Task changed;
                    (long Version, string Json) latest;
                    lock (_gate)
                    {
                        latest = _latest;
                        changed = _changed.Task;
                    }
                    if (latest.Version != sent && latest.Version > 0)
                    {
                        await ctx.Response.WriteAsync($"event: snapshot\nid: {latest.Version}\ndata: {latest.Json}\n\n", ct.Token).ConfigureAwait(false);
                        await ctx.Response.Body.FlushAsync(ct.Token).ConfigureAwait(false);
                        sent = latest.Version;
                        continue;
                    }
                    var beat = Task.Delay(_options.HeartbeatInterval, _time, ct.Token);
                    if (await Task.WhenAny(changed, beat).ConfigureAwait(false) == beat)
                    {
                        await ctx.Response.WriteAsync(": heartbeat\n\n", ct.Token).ConfigureAwait(false);
                        await ctx.Response.Body.FlushAsync(ct.Token).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The page closed or the server stops.
        }
        finally
        {
            Interlocked.Decrement(ref _streams);
        }
    }

    private void EnsureLoop()
    {
        lock (_gate)
        {
            _loop ??= Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_options.Refresh, _time);
        var last = "";
        do
        {
            if (Streams == 0)
            {
                continue;
            }
            string json;
            try
            {
                var snapshot = _data.Snapshot();
                json = snapshot.ToJsonString();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                json = new JsonObject { ["error"] = "could not read the trust store: " + e.Message }.ToJsonString();
            }
            if (json == last)
            {
                continue;
            }
            last = json;
            lock (_gate)
            {
                _latest = (_latest.Version + 1, json);
                var fire = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                fire.TrySetResult();
            }
        }
        while (await WaitAsync(timer).ConfigureAwait(false));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}

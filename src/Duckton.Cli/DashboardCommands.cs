using System.CommandLine;
using System.Globalization;
using System.Net;
using Duckton.Dashboard;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Sql;
using Microsoft.Extensions.Logging;

namespace Duckton.Cli;

/// <summary><c>duckton dashboard</c>: the Trust &amp; Attestation page for this node's own view (docs/DASHBOARD.md).</summary>
internal static class DashboardCommands
{
    /// <summary>Where <c>duckton dashboard</c> listens without <c>--listen</c>.</summary>
    public const string DefaultListen = "127.0.0.1:9480";

    public static Command Dashboard(Option<string?> configDir)
    {
        var listen = new Option<string>("--listen") { Description = $"Address to serve on, HOST:PORT (default {DefaultListen}; port 0 = any free port)", DefaultValueFactory = _ => DefaultListen };
        var allowRemote = new Option<bool>("--allow-remote") { Description = "Allow a non-loopback --listen address (anyone who can connect sees the grid's trust state)" };
        var command = new Command("dashboard", "Serve the read-only Trust & Attestation dashboard for this node's view until SIGINT/SIGTERM");
        command.Options.Add(configDir);
        command.Options.Add(listen);
        command.Options.Add(allowRemote);
        command.SetAction(parse =>
        {
            IPEndPoint endpoint;
            try
            {
                endpoint = DashboardOptions.ParseListen(parse.GetValue(listen)!);
            }
            catch (ArgumentException e)
            {
                return HostCommands.Usage(e.Message);
            }
            var dir = ConfigDirectory.Resolve(parse.GetValue(configDir));
            DuckDBNative.InitializeFromLibrary();
            using var shutdown = new HostCommands.Shutdown(exitWithStdin: false);
            using var host = new NodeHost(dir);
            DashboardServer server;
            try
            {
                server = DashboardServer.StartAsync(host, new DashboardOptions(endpoint, parse.GetValue(allowRemote))).GetAwaiter().GetResult();
            }
            catch (ArgumentException e)
            {
                return HostCommands.Usage(e.Message);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"Error: cannot serve the dashboard on {endpoint}: {e.Message}");
                return 1;
            }
            try
            {
                Console.Out.WriteLine($"dashboard {server.Url}");
                Console.Out.Flush();
                shutdown.Wait();
                return 0;
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        });
        return command;
    }
}

/// <summary>
/// <c>duckton grid up --dashboard P [--workload]</c>: a requester in this process, joined to the grid just started, with
/// its dashboard; optionally running a steady mixed workload so the page shows a grid behaving and misbehaving.
/// </summary>
internal sealed partial class GridDashboard : IDisposable
{
    private readonly NodeHost _host;
    private readonly DuckDBDatabase _database;
    private readonly DuckDBConnection _connection;
    private readonly DashboardServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _workload;

    private GridDashboard(NodeHost host, DuckDBDatabase database, DuckDBConnection connection, DashboardServer server, bool workload, ILogger log)
    {
        _host = host;
        _database = database;
        _connection = connection;
        _server = server;
        if (workload)
        {
            _workload = Task.Run(() => RunWorkload(log));
        }
    }

    /// <summary>Starts the requester and dashboard (prints <c>dashboard URL</c>); null (error printed) when it cannot.</summary>
    public static GridDashboard? Start(string configDirectory, string seed, int port, bool workload, ILogger log)
    {
        Directory.CreateDirectory(configDirectory);
        DuckDBNative.InitializeFromLibrary();
        var host = new NodeHost(configDirectory);
        DuckDBDatabase? database = null;
        DuckDBConnection? connection = null;
        try
        {
            database = DuckDBDatabase.Open(null);
            connection = database.Connect();
            SqlSurface.Register(connection.Value, host);
            // Joined as a user would (the seed is persisted in the requester's configuration, so `duckton sql --config-dir` on it finds the grid too).
            connection.QueryAll($"SELECT * FROM p2p_join(bootstrap => ['{seed}'])").Dispose();
            var server = DashboardServer.StartAsync(host, new DashboardOptions(new IPEndPoint(IPAddress.Loopback, port))).GetAwaiter().GetResult();
            Console.Out.WriteLine($"requester node_id={host.Node.NodeId} config_dir={configDirectory}{(workload ? " (running a mixed demo workload)" : "")}");
            Console.Out.WriteLine($"dashboard {server.Url}");
            Console.Out.Flush();
            return new GridDashboard(host, database, connection, server, workload, log);
        }
        catch (Exception e) when (e is IOException or DuckDBException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"Error: cannot start the dashboard on 127.0.0.1:{port}: {e.Message}");
            connection?.Dispose();
            database?.Dispose();
            host.Dispose();
            return null;
        }
    }

    /// <summary>
    /// Deterministic (verifiable) queries of a few shapes with fresh constants, one every ~0.7 s: each runs with the
    /// configured replicas and quorum, so honest hosts earn receipts and cheaters and flaky hosts earn faults.
    /// </summary>
    private void RunWorkload(ILogger log)
    {
        var r = new Random();
        var shapes = new Func<string>[]
        {
            () => string.Create(CultureInfo.InvariantCulture, $"SELECT i % {r.Next(3, 12)} AS k, count(*) AS n, sum(i) AS s FROM range({r.Next(1000, 50000)}) t(i) GROUP BY ALL ORDER BY k"),
            () => string.Create(CultureInfo.InvariantCulture, $"SELECT {r.Next(1, 1000)} * 2 AS answer, 'demo' AS label"),
            () => string.Create(CultureInfo.InvariantCulture, $"SELECT avg(i)::DOUBLE AS mean, max(i) AS top FROM range({r.Next(100, 20000)}) t(i)"),
            () => string.Create(CultureInfo.InvariantCulture, $"SELECT list(i ORDER BY i) AS xs FROM range({r.Next(2, 40)}) t(i)"),
        };
        while (!_stop.IsCancellationRequested)
        {
            var sql = shapes[r.Next(shapes.Length)]();
            try
            {
                _host.Node.Query(sql, cancellationToken: _stop.Token).Result.Dispose();
            }
            catch (QueryFailedException e)
            {
                WorkloadQueryFailed(log, e.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or DuckDBException)
            {
                WorkloadQueryFailed(log, e.Message);
            }
            _stop.Token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(700));
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "demo workload: a query failed: {Error}")]
    private static partial void WorkloadQueryFailed(ILogger logger, string error);

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _workload?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
        }
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _connection.Dispose();
        _database.Dispose();
        _host.Dispose();
        _stop.Dispose();
    }
}

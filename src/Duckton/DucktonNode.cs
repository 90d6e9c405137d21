using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Node.Grid;
using Duckton.Sql;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeQueryFailed = Duckton.Node.QueryFailedException;

namespace Duckton;

/// <summary>
/// A duckton node in this process: verified queries (locally, or on grid hosts whose answers must agree), and the
/// SQL surface's commands (join, share, pause/resume, peers, receipts, block/unblock, configuration) as methods.
/// </summary>
/// <remarks>
/// <para>
/// Every method is asynchronous and honours its <see cref="CancellationToken"/>: a queued call is dropped, a running
/// query is interrupted (locally, or on its hosts). DuckDB's C API blocks, so the work itself runs on
/// <see cref="DucktonNodeOptions.MaxConcurrentOperations"/> dedicated threads of the node; callers never hold a
/// thread-pool thread while they wait. The node is thread-safe.
/// </para>
/// <para>
/// The commands run the very SQL functions a DuckDB user calls (<c>p2p_join</c>, <c>p2p_share</c>...), on an
/// in-memory DuckDB of this node: a method and its SQL function cannot drift apart.
/// </para>
/// </remarks>
public sealed class DucktonNode : IAsyncDisposable, IDisposable
{
    private readonly NodeHost _host;
    private readonly BlockingWorkQueue _queue;
    private readonly SemaphoreSlim _commandGate = new(1, 1);
    private readonly ILogger _logger;
    private DuckDBDatabase? _database;
    private DuckDBConnection? _connection;
    private int _disposed;

    /// <summary>Creates the node. Cheap: the engine, identity and trust store open on first use.</summary>
    /// <exception cref="DucktonConfigurationException">The configuration (files, environment, <see cref="DucktonNodeOptions.Configuration"/>) is invalid.</exception>
    public DucktonNode(DucktonNodeOptions? options = null)
    {
        Options = options ?? new DucktonNodeOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxConcurrentOperations, 1, nameof(options));
        var overrides = EnvironmentOverrides(Options.Configuration);
        _logger = Options.LoggerFactory?.CreateLogger("Duckton") ?? NullLogger.Instance;
        string directory;
        try
        {
            directory = Duckton.Node.ConfigDirectory.Resolve(Options.ConfigDirectory, overrides);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new DucktonConfigurationException($"the configuration directory cannot be used: {e.Message}", e);
        }
        _host = new NodeHost(directory, overrides)
        {
            Time = Options.TimeProvider ?? TimeProvider.System,
            Logger = _logger,
        };
        try
        {
            _ = _host.Config.Effective(); // fail now, not at the first query
        }
        catch (ConfigException e)
        {
            throw new DucktonConfigurationException(e.Message, e);
        }
        _queue = new BlockingWorkQueue(Options.MaxConcurrentOperations, "duckton");
    }

    /// <summary>The options the node was created with.</summary>
    public DucktonNodeOptions Options { get; }

    /// <summary>The node's configuration directory (its identity).</summary>
    public string ConfigDirectory => _host.Config.ConfigDirectory;

    /// <summary>This build's version: the same one the <c>duckton</c> tool, <c>p2p_info()</c> and the extension report.</summary>
    public static string Version => ProtocolInfo.ExtensionVersion;

    /// <summary>
    /// Runs <paramref name="sql"/> and returns its verified result: locally in a locked-down DuckDB, or on grid hosts
    /// whose signed commits must agree (SQL: <c>p2p_query</c> and <c>p2p_query_meta</c> in one).
    /// </summary>
    /// <exception cref="QuorumNotReachedException">Too few eligible hosts, or they did not agree.</exception>
    /// <exception cref="QueryFailedException">The SQL failed, or the grid could not answer.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<QueryResult> QueryAsync(string sql, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var overrides = ToOverrides(options ?? QueryOptions.Default);
        return _queue.Enqueue(token =>
        {
            DuckDBNative.InitializeFromLibrary();
            QueryOutcome outcome;
            try
            {
                outcome = _host.Node.Query(sql, overrides, computeHash: true, token);
            }
            catch (NodeQueryFailed e) when (token.IsCancellationRequested)
            {
                throw new OperationCanceledException("the query was cancelled", e, token);
            }
            catch (NodeQueryFailed e)
            {
                throw Translate(e);
            }
            return new QueryResult(outcome.Result, ToVerification(outcome.Meta), Offload);
        }, cancellationToken);
    }

    /// <summary>Runs <paramref name="sql"/> and maps each row to <typeparamref name="T"/> by column name (case-insensitive).</summary>
    /// <typeparam name="T">A record whose constructor parameters (or settable properties) are named after the columns.</typeparam>
    /// <exception cref="InvalidCastException">A column's values do not fit its member's type.</exception>
    public async Task<QueryResult<T>> QueryAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties)] T>(
        string sql, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var result = await QueryAsync(sql, options, cancellationToken).ConfigureAwait(false);
        var mapper = new RecordMapper<T>(result.Columns);
        var items = new List<T>((int)Math.Min(result.RowCount, 1 << 20));
        await foreach (var row in result.ReadRowsAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(mapper.Map(row));
        }
        return new QueryResult<T>(items, result.Columns, result.Verification);
    }

    /// <summary>Joins a grid through <paramref name="bootstrap"/> seeds (<c>host:port</c>); they are persisted (SQL: <c>p2p_join</c>).</summary>
    public async Task<JoinResult> JoinAsync(IEnumerable<string> bootstrap, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        var rows = await CommandAsync($"SELECT \"key\", \"value\" FROM p2p_join(bootstrap => {List(bootstrap)})", cancellationToken).ConfigureAwait(false);
        return new JoinResult(Single(rows, "node_id") ?? "", int.Parse(Single(rows, "peers") ?? "0", CultureInfo.InvariantCulture),
            Single(rows, "status") ?? "", [.. rows.Where(r => r.Key == "bootstrap").Select(r => r.Value ?? "")]);
    }

    /// <summary>Starts hosting: this node serves jobs within the donated budget (SQL: <c>p2p_share</c>).</summary>
    public async Task<ShareResult> ShareAsync(ShareOptions? options = null, CancellationToken cancellationToken = default)
    {
        var o = options ?? new ShareOptions();
        var args = new List<string>();
        if (o.Memory is { } m) { args.Add($"memory => {Literal(m)}"); }
        if (o.Threads is { } t) { args.Add($"threads => {t.ToString(CultureInfo.InvariantCulture)}"); }
        if (o.MaxJobs is { } j) { args.Add($"max_jobs => {j.ToString(CultureInfo.InvariantCulture)}"); }
        if (o.DataClasses is { } dc) { args.Add($"data_classes => {List(dc)}"); }
        if (o.Enabled is { } e) { args.Add($"enabled => {(e ? "true" : "false")}"); }
        if (o.Networks is { } n) { args.Add($"networks => {List(n)}"); }
        if (o.Groups is { } g) { args.Add($"groups => {List(g)}"); }
        if (o.Region is { } r) { args.Add($"region => {Literal(r)}"); }
        var rows = await CommandAsync($"SELECT \"key\", \"value\" FROM p2p_share({string.Join(", ", args)})", cancellationToken).ConfigureAwait(false);
        return new ShareResult(Single(rows, "node_id") ?? "", Single(rows, "listen_addr") ?? "", Single(rows, "status") == "hosting",
            int.Parse(Single(rows, "threads") ?? "0", CultureInfo.InvariantCulture), int.Parse(Single(rows, "max_jobs") ?? "0", CultureInfo.InvariantCulture));
    }

    /// <summary>Stops serving jobs; the node keeps listening and gossiping (SQL: <c>p2p_pause</c>).</summary>
    public Task PauseAsync(CancellationToken cancellationToken = default) => CommandAsync("SELECT * FROM p2p_pause()", cancellationToken);

    /// <summary>Serves jobs again (SQL: <c>p2p_resume</c>).</summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) => CommandAsync("SELECT * FROM p2p_resume()", cancellationToken);

    /// <summary>Every peer this node has seen, in this and earlier sessions (SQL: <c>p2p_peers()</c>).</summary>
    public async Task<IReadOnlyList<PeerInfo>> GetPeersAsync(CancellationToken cancellationToken = default)
    {
        var result = await TableAsync("SELECT node_id, name, addr, state, live, trust, standing, flagged, region, enabled, last_seen FROM p2p_peers()", cancellationToken).ConfigureAwait(false);
        return [.. result.Select(r => new PeerInfo((string)r[0]!, (string?)r[1], (string?)r[2], (string?)r[3], r[4] is true, r[5] is double d ? d : 0, (string?)r[6], r[7] is true,
            (string?)r[8], r[9] is true, r[10] as DateTimeOffset?))];
    }

    /// <summary>The signed receipts this node holds, newest first (SQL: <c>p2p_receipts()</c>).</summary>
    /// <param name="worker">Only receipts about this host; null for all.</param>
    /// <param name="maxRows">At most this many (1..1,000,000).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<IReadOnlyList<ReceiptInfo>> GetReceiptsAsync(string? worker = null, int maxRows = 1000, CancellationToken cancellationToken = default)
    {
        var args = $"max_rows => {maxRows.ToString(CultureInfo.InvariantCulture)}" + (worker is null ? "" : $", worker => {Literal(worker)}");
        var result = await TableAsync($"SELECT job_id, worker_id, requester_id, verdict, query_hash, result_hash, latency_ms, ts, signature_valid FROM p2p_receipts({args})", cancellationToken)
            .ConfigureAwait(false);
        return [.. result.Select(r => new ReceiptInfo((string)r[0]!, (string)r[1]!, (string)r[2]!, (string)r[3]!, (string?)r[4] ?? "", (string?)r[5] ?? "",
            TimeSpan.FromMilliseconds(r[6] is ulong ms ? ms : 0), r[7] is DateTimeOffset ts ? ts : default, r[8] is true))];
    }

    /// <summary>Refuses a peer (node id or wallet) from now on, in every process sharing this configuration directory (SQL: <c>p2p_block</c>).</summary>
    public Task BlockAsync(string id, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return CommandAsync($"SELECT * FROM p2p_block(id => {Literal(id)}{(reason is null ? "" : ", reason => " + Literal(reason))})", cancellationToken);
    }

    /// <summary>Lifts a block (SQL: <c>p2p_unblock</c>); false when <paramref name="id"/> was not blocked.</summary>
    public async Task<bool> UnblockAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var rows = await TableAsync($"SELECT status FROM p2p_unblock(id => {Literal(id)})", cancellationToken).ConfigureAwait(false);
        return rows.Count > 0 && (string?)rows[0][0] == "unblocked";
    }

    /// <summary>Every effective configuration key with its value and source (SQL: <c>p2p_config()</c>).</summary>
    public async Task<IReadOnlyList<ConfigSetting>> GetConfigAsync(CancellationToken cancellationToken = default)
    {
        var rows = await TableAsync("SELECT \"group\" || '.' || \"key\", \"value\", \"source\" FROM p2p_config()", cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new ConfigSetting((string)r[0]!, (string?)r[1], (string?)r[2]))];
    }

    /// <summary>One effective configuration key (SQL: <c>p2p_config()</c>); null when there is no such key.</summary>
    public async Task<ConfigSetting?> GetSettingAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var all = await GetConfigAsync(cancellationToken).ConfigureAwait(false);
        return all.FirstOrDefault(s => s.Key == key);
    }

    /// <summary>Sets a key in the runtime layer, validated and persisted in the configuration directory (SQL: <c>p2p_set</c>).</summary>
    /// <exception cref="DucktonCommandException">Unknown key or invalid value (the message says what is valid).</exception>
    public Task SetConfigAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return CommandAsync($"SELECT * FROM p2p_set({Literal(key)}, {Literal(value)})", cancellationToken);
    }

    /// <summary>Drops every runtime-layer setting (SQL: <c>p2p_config_reset()</c>).</summary>
    public Task ResetConfigAsync(CancellationToken cancellationToken = default) => CommandAsync("SELECT * FROM p2p_config_reset()", cancellationToken);

    /// <summary>
    /// The protocol identity of this build (SQL: <c>p2p_info()</c>): <c>protocol_name</c>, <c>protocol_version</c>,
    /// <c>min_supported_version</c>, <c>schema_version</c>, <c>extension_version</c> (= <see cref="Version"/>), <c>alpn</c>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string?>> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        var rows = await CommandAsync("SELECT \"key\", \"value\" FROM p2p_info()", cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
    }

    /// <summary>This node's id (<c>b3:</c> and 64 hex digits), created with its key on first use.</summary>
    public async Task<string> GetNodeIdAsync(CancellationToken cancellationToken = default)
    {
        var rows = await CommandAsync("SELECT \"key\", \"value\" FROM p2p_status() WHERE \"group\" = 'status' AND \"key\" = 'node_id'", cancellationToken).ConfigureAwait(false);
        return Single(rows, "node_id") ?? "";
    }

    /// <summary>Stops the node: leaves the grid, stops hosting, closes the stores. Waits for running work to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        // Joining the worker threads and closing sockets and files block: done off the caller's thread.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closer = new Thread(() =>
        {
            try
            {
                Close();
                done.SetResult();
            }
#pragma warning disable CA1031 // handed to the awaiting caller
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = "duckton dispose" };
        closer.Start();
        await done.Task.ConfigureAwait(false);
    }

    /// <summary>Stops the node synchronously (prefer <see cref="DisposeAsync"/>).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Close();
        }
    }

    private void Close()
    {
        _queue.Dispose();
        _connection?.Dispose();
        _database?.Dispose();
        _host.Dispose();
        _commandGate.Dispose();
    }

    // ------------------------------------------------------------------ commands through the SQL surface

    private Task<ResultBatch> Offload(Func<CancellationToken, ResultBatch> work, CancellationToken cancellationToken) => _queue.Enqueue(work, cancellationToken);

    /// <summary>Runs one statement on the node's own DuckDB (with every p2p_* function) and returns its rows, typed.</summary>
    private async Task<List<object?[]>> TableAsync(string sql, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _commandGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _queue.Enqueue(token =>
            {
                var connection = Connection();
                using var interrupt = token.Register(static c => ((DuckDBConnection)c!).Interrupt(), connection);
                try
                {
                    using var result = connection.QueryAll(sql);
                    var rows = new List<object?[]>();
                    foreach (var batch in result.Batches)
                    {
                        for (var r = 0; r < batch.RowCount; r++)
                        {
                            rows.Add([.. batch.Columns.Select(c => ValueReader.Read(c, r))]);
                        }
                    }
                    return rows;
                }
                catch (DuckDBException e) when (token.IsCancellationRequested)
                {
                    throw new OperationCanceledException("the command was cancelled", e, token);
                }
                catch (DuckDBException e)
                {
                    throw new DucktonCommandException(CommandError(e.Message), e);
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _commandGate.Release();
        }
    }

    /// <summary>A (key, value) command result.</summary>
    private async Task<List<KeyValuePair<string, string?>>> CommandAsync(string sql, CancellationToken cancellationToken)
    {
        var rows = await TableAsync(sql, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new KeyValuePair<string, string?>(r.Length > 1 ? r[0] as string ?? "" : "", r.Length > 1 ? r[1] as string : r[0] as string))];
    }

    private DuckDBConnection Connection()
    {
        if (_connection is null)
        {
            DuckDBNative.InitializeFromLibrary();
            _database = DuckDBDatabase.Open(null);
            var connection = _database.Connect();
            SqlSurface.Register(connection.Value, _host);
            _connection = connection;
        }
        return _connection;
    }

    /// <summary>DuckDB prefixes a table function's error ("Binder Error: ", "Invalid Input Error: "); the library's exception type says that already.</summary>
    private static string CommandError(string message)
    {
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && message[..colon].EndsWith(" Error", StringComparison.Ordinal) ? message[(colon + 2)..] : message;
    }

    private static string? Single(List<KeyValuePair<string, string?>> rows, string key) => rows.FirstOrDefault(r => r.Key == key).Value;

    internal static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Literal)) + "]";

    // ------------------------------------------------------------------ mapping to and from the node's types

    private static Func<string, string?> EnvironmentOverrides(IReadOnlyDictionary<string, string>? configuration)
    {
        if (configuration is null || configuration.Count == 0)
        {
            return Environment.GetEnvironmentVariable;
        }
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration)
        {
            if (!ConfigCatalog.TryGet(key, out var descriptor))
            {
                var suggestion = ConfigCatalog.Suggest(key);
                throw new DucktonConfigurationException($"unknown configuration key '{key}'" + (suggestion is null ? "" : $"; did you mean '{suggestion}'?"));
            }
            if (descriptor.EnvVars.Length == 0)
            {
                throw new DucktonConfigurationException($"'{key}' cannot be set per node; set it in the configuration file");
            }
            byName[descriptor.EnvVars[0]] = value;
            // The key's other variable names would disagree with the override: hide them.
            foreach (var other in descriptor.EnvVars.Skip(1))
            {
                byName[other] = "";
            }
        }
        return name => byName.TryGetValue(name, out var v) ? v : Environment.GetEnvironmentVariable(name);
    }

    private static QueryOverrides ToOverrides(QueryOptions o)
    {
        var overrides = new QueryOverrides
        {
            Replicas = o.Replicas,
            Quorum = o.Quorum,
            MinTrust = o.MinTrust,
            MinAttestation = o.MinAttestation,
            Verify = o.Verification switch
            {
                null => null,
                VerificationMode.Fast => VerifyMode.Fast,
                _ => VerifyMode.Quorum,
            },
            Prefer = o.Placement switch
            {
                null => null,
                QueryPlacement.Local => PlannerPreference.Local,
                QueryPlacement.Remote => PlannerPreference.Remote,
                _ => PlannerPreference.Auto,
            },
            DataClass = o.DataClass switch
            {
                null => null,
                DataClassification.Internal => DataClass.Internal,
                DataClassification.Sensitive => DataClass.Sensitive,
                _ => DataClass.Public,
            },
            Network = string.IsNullOrWhiteSpace(o.Network) ? null : o.Network,
            Groups = o.Groups,
            Regions = o.Regions,
            Nodes = o.Nodes,
            TimeoutMs = o.Timeout is { } t ? checked((int)Math.Ceiling(t.TotalMilliseconds)) : null,
            InputPin = string.IsNullOrWhiteSpace(o.InputPin) ? null : o.InputPin.Trim().ToLowerInvariant(),
        };
        return overrides;
    }

    private static QueryFailedException Translate(NodeQueryFailed e)
    {
        var verification = ToVerification(e.Meta);
        // The grid's shortfalls all name the quorum they missed ("need quorum 2", "no quorum: ...").
        return e.InnerException is GridQueryException && e.Message.Contains("quorum", StringComparison.OrdinalIgnoreCase)
            ? new QuorumNotReachedException(e.Message, verification, e)
            : new QueryFailedException(e.Message, verification, e);
    }

    private static QueryVerification ToVerification(QueryMeta m) => new()
    {
        JobId = m.JobId,
        ExecutedLocally = m.ExecutedLocally,
        Verified = m.Verified,
        Agreement = m.Agreement,
        Quorum = m.Quorum,
        Winner = m.Winner,
        Participants = m.Participants,
        Receipts = m.Receipts,
        Probationary = m.Probationary,
        ShadowReplicas = m.ShadowReplicas,
        ResultHash = m.AgreedHash,
        InputFingerprint = string.IsNullOrEmpty(m.InputFingerprint) ? null : m.InputFingerprint,
        RowCount = m.ResultRows,
        Latency = TimeSpan.FromMilliseconds(m.LatencyMs),
        Certificate = m.Certificate,
        Unverifiable = m.Unverifiable,
        Rejected = m.Rejected,
        Error = m.Error,
    };
}

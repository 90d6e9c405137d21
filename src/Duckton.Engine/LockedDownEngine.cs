using System.Collections.Concurrent;
using System.Globalization;
using Duckton.Core.Data;
using Duckton.DuckDB;

namespace Duckton.Engine;

/// <summary>
/// Runs untrusted SQL in a locked-down, in-memory DuckDB that no earlier job has changed (see <see cref="Execute"/>): no extension install or load, no
/// unsigned or community extensions, no external access, the local file system disabled, secrets redacted,
/// then the configuration locked so the SQL cannot undo any of it. Instances are opened ahead of time.
/// With <see cref="EngineOptions.AllowedDirectories"/> the local file system stays enabled but DuckDB's
/// <c>allowed_directories</c> confines it to those directories, and only statements that cannot write files run.
/// </summary>
internal sealed class LockedDownEngine : IDisposable
{
    private readonly ConcurrentQueue<Instance> _warm = new();
    private readonly EngineOptions _options;
    private readonly KeyValuePair<string, string>[] _settings;
    private readonly string _lockdownSql;
    private readonly string? _processSpill; // Inherit: one directory for the engine's life; Custom: the configured one
    private int _replenishing;
    private volatile bool _disposed;

    public LockedDownEngine(EngineOptions? options = null)
    {
        _options = options ?? EngineOptions.Default;
        _settings = LockdownSettings(_options);
        _lockdownSql = LockdownSqlFor(_options);
        Inputs = new LocalInputs(_options.AllowedDirectories);
        _processSpill = _options.SpillPolicy switch
        {
            global::Duckton.Core.Configuration.TempDirPolicy.Inherit => Directory.CreateTempSubdirectory($"duckton-spill-{Environment.ProcessId}-").FullName,
            global::Duckton.Core.Configuration.TempDirPolicy.Custom => Directory.CreateDirectory(RequireAbsolute(_options.SpillDirectory)).FullName,
            _ => null,
        };
        Replenish();
    }

    public EngineOptions Options => _options;

    /// <summary>The spill directory shared by this engine's jobs (policy <c>Inherit</c> or <c>Custom</c>); null otherwise.</summary>
    public string? SharedSpillDirectory => _processSpill;

    private int _running;

    /// <summary>Instances opened and waiting for a job.</summary>
    internal int WarmCount => _warm.Count;

    /// <summary>Statements executing right now (a cancelled one counts until DuckDB has stopped it).</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>The shared directories: which files a query reads, their fingerprint, <c>share://</c> paths.</summary>
    public LocalInputs Inputs { get; }

    /// <summary>The start-up settings of every job instance, in order; <see cref="LockdownSql"/> follows them.</summary>
    public static KeyValuePair<string, string>[] LockdownSettings(EngineOptions options) =>
    [
        new("max_memory", (Math.Max(64L << 20, options.MemoryLimitBytes) >> 20).ToString(CultureInfo.InvariantCulture) + "MiB"), // MiB: DuckDB's MB is 10^6 bytes
        new("threads", Math.Max(1, options.Threads).ToString(CultureInfo.InvariantCulture)),
        new("autoinstall_known_extensions", "false"),
        new("autoload_known_extensions", "false"),
        new("allow_community_extensions", "false"),
        new("allow_unsigned_extensions", "false"),
        // With shared directories this is switched off in LockdownSqlFor instead: DuckDB accepts allowed_directories
        // only while external access is still on (and not as an open-time option).
        .. options.AllowedDirectories.Count == 0 && options.SpillPolicy is null ? [new KeyValuePair<string, string>("enable_external_access", "false")] : Array.Empty<KeyValuePair<string, string>>(),
        new("allow_unredacted_secrets", "false"),
    ];

    /// <summary>
    /// The result-affecting settings every job runs under, whatever the host's environment: DuckDB takes its time zone
    /// from <c>TZ</c> and ICU its calendar from <c>LANG</c>/<c>LC_*</c> (<c>th_TH</c> gives the Buddhist calendar), so
    /// without these two hosts in different places return different results for the same query. The others are
    /// DuckDB's defaults, pinned so a result never depends on them. Set globally before <c>lock_configuration</c>: a
    /// job can neither <c>SET</c> nor <c>RESET</c> them. Documented in docs/PROTOCOL.md ("The job environment").
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ResultSettings { get; } =
    [
        new("TimeZone", "UTC"),
        new("Calendar", "gregorian"),
        new("default_collation", ""),
        new("default_order", "ASC"),
        new("default_null_order", "NULLS_LAST"),
        new("integer_division", "false"),
        new("ieee_floating_point_ops", "true"),
        new("order_by_non_integer_literal", "false"),
        new("scalar_subquery_error_on_multiple_rows", "true"),
        new("disable_timestamptz_casts", "false"),
        new("preserve_insertion_order", "true"),
    ];

    private static readonly string s_resultSettingsSql = string.Concat(ResultSettings.Select(s =>
        $"SET GLOBAL {s.Key}='{s.Value.Replace("'", "''", StringComparison.Ordinal)}'; "));

    /// <summary>
    /// Run on each new instance after open (these settings cannot be given at open time): the
    /// <see cref="ResultSettings"/>, then the file system switched off. <c>lock_configuration</c> comes last: after it
    /// no <c>SET</c> can loosen or change anything.
    /// </summary>
    public static string LockdownSql { get; } = s_resultSettingsSql + "SET disabled_filesystems='LocalFileSystem'; SET lock_configuration=true;";

    /// <summary>
    /// <see cref="LockdownSql"/>, or with shared directories: allow exactly those (DuckDB resolves <c>..</c> and symlinks
    /// before checking), no temp directory (DuckDB would otherwise add its <c>.tmp</c> under the working directory to the
    /// allowed list, and it is writable), then external access off and the configuration locked.
    /// </summary>
    public static string LockdownSqlFor(EngineOptions options, string? spillDirectory = null)
    {
        var roots = new LocalInputs(options.AllowedDirectories).Roots;
        if (roots.Count == 0 && spillDirectory is null)
        {
            return LockdownSql;
        }
        // A spill directory must be reachable for DuckDB's own temp files: it joins the allowed list (with a trailing
        // separator, so a sibling sharing its prefix is not), and statements that could write a file stay refused.
        IEnumerable<string> allowed = spillDirectory is null ? roots : roots.Append(Path.TrimEndingDirectorySeparator(spillDirectory) + Path.DirectorySeparatorChar);
        var list = string.Join(", ", allowed.Select(r => "'" + r.Replace("'", "''", StringComparison.Ordinal) + "'"));
        var temp = spillDirectory is null ? "''" : "'" + spillDirectory.Replace("'", "''", StringComparison.Ordinal) + "'";
        return s_resultSettingsSql + $"SET allowed_directories=[{list}]; SET temp_directory={temp}; SET enable_external_access=false; SET lock_configuration=true;";
    }

    private static string CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.CreateDirectory(path).FullName;
        }
        // Other local users must not read a job's spilled rows.
        return Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
    }

    private static string RequireAbsolute(string path) => Path.IsPathFullyQualified(path)
        ? path
        : throw new ArgumentException($"the spill directory must be an absolute path, got \"{path}\"");

    /// <summary>The spill directory of a new instance (null = none), created now.</summary>
    private string? SpillDirectoryForInstance() => _options.SpillPolicy switch
    {
        global::Duckton.Core.Configuration.TempDirPolicy.Ephemeral => CreateOwnerOnly(Path.Combine(
            _options.SpillDirectory.Length > 0 ? RequireAbsolute(_options.SpillDirectory) : Path.GetTempPath(),
            "duckton-spill-job-" + Guid.NewGuid().ToString("N"))),
        null => null,
        _ => _processSpill,
    };

    /// <summary>
    /// Statement kinds that may run when files are reachable: none of them can write a file (COPY, EXPORT, ATTACH,
    /// LOAD, PRAGMA, CALL, EXPLAIN ANALYZE, PREPARE/EXECUTE of those are refused), since allowed_directories permits writes.
    /// </summary>
    private static bool ReadOnlySafe(DuckDBStatementType type) => (int)type switch
    {
        1 or 2 or 3 or 5 => true, // SELECT, INSERT, UPDATE, DELETE (the catalog is in memory)
        7 or 9 or 10 or 13 or 15 => true, // CREATE, ALTER, TRANSACTION, SET VARIABLE, DROP
        _ => false,
    };

    /// <summary>First keywords of statements that may run when files are reachable (the prepared type is checked again).</summary>
    private static readonly HashSet<string> s_readOnlyHeads = new(StringComparer.Ordinal)
    {
        "SELECT", "WITH", "FROM", "VALUES", "TABLE", "DESCRIBE", "SHOW", "SUMMARIZE", "PIVOT", "UNPIVOT",
        "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SET",
    };

    private static void RequireReadOnly(DuckDBPreparedStatement statement)
    {
        if (!ReadOnlySafe(statement.StatementType))
        {
            throw new DuckDBException($"this host shares local files read-only: {StatementName(statement.StatementType)} statements are not allowed (only SELECT and in-memory DDL/DML)");
        }
    }

    private static string StatementName(DuckDBStatementType type) => (int)type switch
    {
        4 => "EXPLAIN",
        6 => "PREPARE",
        8 => "EXECUTE",
        11 => "COPY",
        12 => "ANALYZE",
        14 => "CREATE FUNCTION",
        16 => "EXPORT",
        17 => "PRAGMA",
        18 => "VACUUM",
        19 => "CALL",
        20 => "SET",
        21 => "LOAD",
        25 => "ATTACH",
        26 => "DETACH",
        _ => ((int)type).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The checks before a job takes an instance; rewrites <c>share://</c> paths. True when files are reachable (shared
    /// directories or a spill directory), so only statements that cannot write a file may run.
    /// </summary>
    private bool Admit(ref string sql, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var files = Inputs.Enabled || _options.SpillPolicy is not null; // the spill directory is on disk too
        if (files)
        {
            // Checked before DuckDB prepares anything: binding EXPORT DATABASE already creates its directory.
            if (LocalInputs.StatementHeads(sql).FirstOrDefault(h => !s_readOnlyHeads.Contains(h)) is { } head)
            {
                throw new DuckDBException($"this host shares local files read-only: {(head.Length == 0 ? "this statement" : head)} statements are not allowed (only SELECT and in-memory DDL/DML)");
            }
            sql = Inputs.Rewrite(sql);
        }
        return files;
    }

    /// <summary>Runs <paramref name="sql"/> and materialises its result. DuckDB's error text is kept in the exception.</summary>
    /// <remarks>
    /// Each job runs on an instance nobody has changed. A single read-only SELECT cannot change an instance (no catalog
    /// or setting changes, and settings are locked), so that instance goes back to the warm pool afterwards; an instance
    /// that ran anything else (DDL, DML, several statements) is closed, never reused. A SELECT that finished also leaves
    /// its connection to the instance's next job (opening and closing one cost a tenth of a small job), as does one
    /// cancelled: nothing of it stays on the connection but DuckDB's random generator, so a job that may reseed that
    /// (<see cref="MayReseed"/>), or failed, has its connection closed instead.
    /// </remarks>
    public ResultSet Execute(string sql, CancellationToken cancellationToken = default) =>
        OnInstance(sql, cancellationToken, (Instance instance, DuckDBConnection connection, string sql, bool files, ref bool pristine) =>
        {
            using var statement = PrepareOrScript(connection, sql, files, ref pristine, out var script);
            if (statement is null)
            {
                return script!;
            }
            var select = statement.StatementType == DuckDBStatementType.Select;
            ResultSet rows;
            using (var result = Run(statement))
            {
                rows = result.ReadAll(_options.MaxResultBytes);
            }
            // An ephemeral spill directory is the job's own: the instance serves the next job only if this one
            // never wrote to it (checked after the result is closed, so DuckDB has released its temp blocks).
            pristine = select && instance.SpillUntouched();
            // Whether or not the instance is reused, a lone SELECT keeps its untyped NULL columns' type.
            return select ? RestoreNullTypes(connection, sql, rows) : rows;
        });

    private delegate T JobBody<T>(Instance instance, DuckDBConnection connection, string sql, bool files, ref bool pristine);

    /// <summary>
    /// One job on a warm instance: admits the SQL, takes an instance, connects, turns a cancel into DuckDB's interrupt
    /// and an <see cref="OperationCanceledException"/>, and returns the instance afterwards — to the pool only when
    /// <paramref name="body"/> said it is pristine.
    /// </summary>
    private T OnInstance<T>(string sql, CancellationToken cancellationToken, JobBody<T> body)
    {
        var files = Admit(ref sql, cancellationToken);
        var instance = Take();
        var pristine = false;
        var finished = false;
        Interlocked.Increment(ref _running);
        DuckDBConnection? connection = null;
        try
        {
            connection = instance.TakeConnection(ref _connectionsOpened);
            using (cancellationToken.Register(static c => ((DuckDBConnection)c!).Interrupt(), connection))
            {
                try
                {
                    var result = body(instance, connection, sql, files, ref pristine);
                    finished = true;
                    return result;
                }
                catch (DuckDBException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("the query was cancelled", cancellationToken);
                }
            }
        }
        finally
        {
            // A cancelled SELECT's connection serves on too (a third of a grid's jobs lose the race at quorum): an
            // interrupt that reaches it after its statement ended does not stop the next one (a test holds DuckDB to that).
            if (connection is not null && pristine && (finished || cancellationToken.IsCancellationRequested) && !MayReseed(sql))
            {
                instance.KeepConnection(connection);
            }
            else
            {
                connection?.Dispose();
            }
            Interlocked.Decrement(ref _running);
            Return(instance, pristine);
        }
    }

    private long _connectionsOpened;

    /// <summary>Connections opened for jobs so far (a kept one serves the next job without one); for tests.</summary>
    internal long ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    /// <summary>
    /// True when <paramref name="sql"/> might reseed DuckDB's random generator, the one thing a lone SELECT can change
    /// on its connection (<c>setseed</c>; every later <c>random()</c> on that connection would follow from the seed).
    /// Conservative, on the raw text: a function is named in the SQL (plainly, quoted, or with <c>U&amp;</c> escapes,
    /// which DuckDB 1.5 refuses but a later one might not), or its name is built at run time and handed to
    /// <c>query</c>, <c>query_table</c> or <c>json_execute_serialized_sql</c>. Such a job's connection is closed
    /// afterwards; a false alarm only costs the next job a connection.
    /// </summary>
    internal static bool MayReseed(string sql) =>
        sql.Contains("seed", StringComparison.OrdinalIgnoreCase) || sql.Contains("query", StringComparison.OrdinalIgnoreCase)
        || sql.Contains("execute", StringComparison.OrdinalIgnoreCase) || sql.Contains("u&", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Prepares one statement (checked read-only when files are reachable), or, for several statements, runs them as a
    /// script and returns null with the script's last result. A statement that fails to prepare has not run, so the
    /// instance stays pristine; a script changes the instance, so it never is afterwards.
    /// </summary>
    private DuckDBPreparedStatement? PrepareOrScript(DuckDBConnection connection, string sql, bool files, ref bool pristine, out ResultSet? script)
    {
        script = null;
        var statement = connection.TryPrepare(sql, out var prepareError);
        if (statement is null)
        {
            if (prepareError is not null && !prepareError.Contains("multiple statements", StringComparison.OrdinalIgnoreCase))
            {
                pristine = true; // nothing ran: the instance is untouched
                throw new DuckDBException(prepareError);
            }
            script = RunScript(connection, sql, files);
            return null;
        }
        if (files)
        {
            try
            {
                RequireReadOnly(statement);
            }
            catch
            {
                statement.Dispose();
                throw;
            }
        }
        return statement;
    }

    /// <summary>
    /// How much of a lone SELECT's result <see cref="ExecuteStreaming"/> holds back before the schema goes out, so a
    /// small result decides its untyped NULL columns from the rows exactly as <see cref="Execute"/> does. Internal so
    /// tests can move it; a few MiB.
    /// </summary>
    internal long NullProbeBufferBytes { get; set; } = 4L << 20;

    /// <summary>False: a lone SELECT is materialised, as where the library offers no streaming results (for tests of that path).</summary>
    internal bool PreferStreaming { get; set; } = true;

    /// <summary>
    /// Executes a job's statement, streaming where the library offers it: DuckDB then hands over each chunk as it is
    /// produced instead of first materialising the whole result in its own memory and copying it out again.
    /// </summary>
    private DuckDBQueryResult Run(DuckDBPreparedStatement statement) => PreferStreaming ? statement.ExecuteStreaming() : statement.Execute();

    /// <summary>
    /// Runs one job like <see cref="Execute"/> (the same instance, statement and reuse rules, the same errors, the same
    /// schema and rows) but hands the result over as DuckDB produces it: <paramref name="onSchema"/> once, then
    /// <paramref name="onBatch"/> per non-empty chunk, on the calling thread. A lone SELECT runs as a streaming result
    /// when the library offers one (<see cref="Duckton.DuckDB.Native.DuckDBNative.StreamingResults"/>), so neither DuckDB nor this process
    /// holds the whole result; other statements and scripts are materialised first. <see cref="EngineOptions.MaxResultBytes"/>
    /// is counted as the chunks go by. Returns after the last chunk has been handed over and the instance released.
    /// </summary>
    /// <remarks>
    /// A job can fail after some batches were handed over (the result limit, memory, a cancel): the caller must treat
    /// what it received as void then. An exception from a callback ends the job the same way.
    /// </remarks>
    public void ExecuteStreaming(string sql, Action<ResultSchema> onSchema, Action<ResultBatch> onBatch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onSchema);
        ArgumentNullException.ThrowIfNull(onBatch);
        OnInstance(sql, cancellationToken, (Instance instance, DuckDBConnection connection, string sql, bool files, ref bool pristine) =>
        {
            ResultSet? rows;
            using (var statement = PrepareOrScript(connection, sql, files, ref pristine, out rows))
            {
                if (statement?.StatementType == DuckDBStatementType.Select)
                {
                    try
                    {
                        StreamSelect(instance, connection, statement, sql, onSchema, onBatch, cancellationToken);
                    }
                    catch (Exception e) when (cancellationToken.IsCancellationRequested
                        && (e is OperationCanceledException || e is DuckDBException d && IsInterrupt(d)))
                    {
                        // A lone SELECT stopped by a cancel (the usual end of a host that lost the race at quorum) changed
                        // the instance no more than one that finished: reopening it would cost a DuckDB start-up per lost race.
                        // Any other failure (one DuckDB may have invalidated the instance with) still closes it.
                        pristine = instance.SpillUntouched();
                        throw;
                    }
                    catch (DuckDBException e) when (!cancellationToken.IsCancellationRequested && IsInterrupt(e))
                    {
                        throw ErrorOfRerun(statement, e, cancellationToken);
                    }
                    // After the result is closed, as in Execute: DuckDB has released its temp blocks by now.
                    pristine = instance.SpillUntouched();
                    return true;
                }
                if (statement is not null)
                {
                    using var result = statement.Execute();
                    rows = result.ReadAll(_options.MaxResultBytes);
                }
            }
            using (rows)
            {
                onSchema(rows!.Schema);
                foreach (var batch in rows.Batches)
                {
                    onBatch(batch);
                }
            }
            return true;
        });
    }

    /// <summary>DuckDB's interrupt error ("INTERRUPT Error: Interrupted!"), whoever caused it: a cancel, or one of its own threads (see <see cref="ErrorOfRerun"/>).</summary>
    private static bool IsInterrupt(DuckDBException e) => e.Message.StartsWith("INTERRUPT Error", StringComparison.Ordinal);

    /// <summary>
    /// The error a streamed SELECT really failed with, when DuckDB reported an interrupt nobody asked for. An error
    /// raised on one of DuckDB's worker threads interrupts the others, and now and then (about 1 in 60 under load here,
    /// with 2 threads) the thread fetching the stream reports that interrupt instead of the error: a job failing with
    /// <c>error('boom')</c> would say "Interrupted!". The statement runs again, its chunks discarded, up to
    /// <paramref name="attempts"/> times, for its own error; a run that ends cleanly (the query is not deterministic) or
    /// interrupted again leaves the interrupt as the answer. Only this rare failure pays for it, and only within the job
    /// that failed: a cancel interrupts the re-run through the job's registration, and no re-run starts after one.
    /// </summary>
    internal static DuckDBException ErrorOfRerun(DuckDBPreparedStatement statement, DuckDBException interrupt, CancellationToken cancellationToken, int attempts = 3)
    {
        for (var i = 0; i < attempts && !cancellationToken.IsCancellationRequested; i++)
        {
            try
            {
                using var result = statement.ExecuteStreaming();
                while (result.ReadBatch() is not null)
                {
                }
                return interrupt;
            }
            catch (DuckDBException e) when (IsInterrupt(e))
            {
            }
            catch (DuckDBException e)
            {
                return e;
            }
        }
        return interrupt;
    }

    private ResultSet RunScript(DuckDBConnection connection, string sql, bool files)
    {
        if (files)
        {
            ResultSet? last = null;
            connection.RunStatements(sql, r => last = r.ReadAll(_options.MaxResultBytes), RequireReadOnly);
            return last ?? new ResultSet(new ResultSchema([], []), []);
        }
        return connection.QueryAll(sql, _options.MaxResultBytes);
    }

    /// <summary>
    /// Streams a lone SELECT. Without INTEGER or GEOMETRY columns the schema goes out at once and every chunk follows
    /// as it is fetched. Otherwise up to <see cref="NullProbeBufferBytes"/> are held back: a result that ends within
    /// that is restored exactly as <see cref="Execute"/> restores it (the probe runs only when an INTEGER column is all
    /// NULL); a larger one is decided by the <c>LIMIT 0</c> probe alone, on a second connection (this one is busy with
    /// the stream). Both give the same types: a column whose type in the query is "NULL" can hold nothing but NULLs.
    /// </summary>
    private void StreamSelect(Instance instance, DuckDBConnection connection, DuckDBPreparedStatement statement, string sql,
        Action<ResultSchema> onSchema, Action<ResultBatch> onBatch, CancellationToken cancellationToken)
    {
        var limit = _options.MaxResultBytes;
        List<ResultBatch>? held = null;
        ResultSchema schema;
        using (var result = Run(statement))
        {
            schema = result.Schema;
            var typed = Enumerable.Range(0, schema.Count).Any(c => schema.Types[c].Id is DuckTypeId.Integer or DuckTypeId.Geometry);
            Func<ResultBatch, ResultBatch>? restore = null;
            if (typed)
            {
                held = [];
            }
            else
            {
                onSchema(schema);
            }
            long bytes = 0, heldBytes = 0;
            while (result.ReadBatch() is { } batch)
            {
                // DuckDB may hand over chunks it buffered before an interrupt: stop at once.
                cancellationToken.ThrowIfCancellationRequested();
                if (batch.RowCount == 0)
                {
                    continue;
                }
                var size = BatchSize.Estimate(batch);
                bytes += size;
                if (bytes > limit)
                {
                    throw new DuckDBException($"result exceeds the limit of {limit} bytes (limits.max_result_bytes)");
                }
                if (held is null)
                {
                    onBatch(restore is null ? batch : restore(batch));
                    continue;
                }
                held.Add(batch);
                heldBytes += size;
                if (heldBytes > NullProbeBufferBytes)
                {
                    using var probeConnection = instance.Database.Connect();
                    using var probeCancel = cancellationToken.Register(static c => ((DuckDBConnection)c!).Interrupt(), probeConnection);
                    var all = Enumerable.Range(0, schema.Count).Where(c => schema.Types[c].Id == DuckTypeId.Integer).ToList();
                    var (restoredSchema, restored) = ProbeNullTypes(probeConnection, sql, schema, all);
                    if (restored.Count > 0)
                    {
                        restore = b => WithNullColumns(b, restoredSchema, restored);
                    }
                    onSchema(restoredSchema);
                    foreach (var b in held)
                    {
                        onBatch(restore is null ? b : restore(b));
                    }
                    held = null;
                }
            }
        }
        if (held is not null)
        {
            // The whole result was small: exactly Execute's restoration (the stream is closed, so this connection is free).
            var rows = RestoreNullTypes(connection, sql, new ResultSet(schema, held));
            onSchema(rows.Schema);
            foreach (var b in rows.Batches)
            {
                onBatch(b);
            }
        }
    }

    /// <summary>
    /// DuckDB gives an untyped NULL column (<c>SELECT NULL AS x</c>) the type INTEGER in a final result, though inside
    /// the query, and in any subquery of it, its type is "NULL" (<c>typeof(x)</c> is <c>"NULL"</c>). p2p_query is used
    /// as a subquery, so the "NULL" type is restored: only when an INTEGER column holds nothing but NULLs, DuckDB is
    /// asked for the column types of the query as a subquery (<c>LIMIT 0</c>: the query body does not run again).
    /// A statement that cannot be wrapped keeps DuckDB's types. The same probe refuses a top-level GEOMETRY column that
    /// has a coordinate reference system.
    /// </summary>
    private static ResultSet RestoreNullTypes(DuckDBConnection connection, string sql, ResultSet result)
    {
        var schema = result.Schema;
        var candidates = Enumerable.Range(0, schema.Count)
            .Where(c => schema.Types[c].Id == DuckTypeId.Integer && result.Batches.All(b => AllNull(b.Columns[c], b.RowCount)))
            .ToList();
        var (newSchema, restored) = ProbeNullTypes(connection, sql, schema, candidates);
        if (restored.Count == 0)
        {
            return result;
        }
        return new ResultSet(newSchema, [.. result.Batches.Select(b => WithNullColumns(b, newSchema, restored))]);
    }

    /// <summary>
    /// The probe of <see cref="RestoreNullTypes"/>: which of the INTEGER <paramref name="candidates"/> are "NULL" in the
    /// query, and the schema with those restored (unchanged and an empty set when none is, or the probe cannot run).
    /// Throws for a GEOMETRY column with a coordinate reference system.
    /// </summary>
    private static (ResultSchema Schema, HashSet<int> Restored) ProbeNullTypes(DuckDBConnection connection, string sql, ResultSchema schema, IReadOnlyList<int> candidates)
    {
        var unchanged = (schema, new HashSet<int>());
        var geometries = Enumerable.Range(0, schema.Count).Where(c => schema.Types[c].Id == DuckTypeId.Geometry).ToList();
        if (candidates.Count == 0 && geometries.Count == 0)
        {
            return unchanged;
        }
        string?[] typeNames;
        try
        {
            var body = sql.TrimEnd().TrimEnd(';');
            var probe = connection.QueryAll($"SELECT typeof(COLUMNS(*)) FROM (SELECT * FROM ({body}\n) LIMIT 0) RIGHT JOIN (SELECT 1) ON true");
            if (probe.Schema.Count != schema.Count + 1 || probe.Batches.Count == 0 || probe.Batches[0].RowCount != 1)
            {
                return unchanged;
            }
            typeNames = [.. probe.Batches[0].Columns.Select(c => c.IsValid(0) ? System.Text.Encoding.UTF8.GetString(c.GetBytes(0)) : null)];
        }
        catch (DuckDBException)
        {
            return unchanged;
        }
        // The C API shows GEOMETRY('OGC:CRS84') as plain GEOMETRY and cannot create the CRS type: refuse rather than drop it.
        if (geometries.FirstOrDefault(c => typeNames[c] != "GEOMETRY", -1) is var g and >= 0)
        {
            throw new DuckDBException($"column {schema.Names[g]} has the type {typeNames[g]}: a GEOMETRY with a coordinate reference system cannot be carried by duckton (DuckDB's C API neither shows nor creates the CRS); cast it to plain GEOMETRY in the query ({schema.Names[g]}::GEOMETRY)");
        }
        var restored = candidates.Where(c => typeNames[c] == "\"NULL\"").ToHashSet();
        if (restored.Count == 0)
        {
            return unchanged;
        }
        var nullType = DuckType.Of(DuckTypeId.SqlNull);
        return (new ResultSchema(schema.Names, [.. schema.Types.Select((t, c) => restored.Contains(c) ? nullType : t)]), restored);
    }

    /// <summary>The batch with the <paramref name="restored"/> columns replaced by all-NULL columns of type "NULL".</summary>
    private static ResultBatch WithNullColumns(ResultBatch b, ResultSchema schema, HashSet<int> restored) => new(schema,
        [.. b.Columns.Select((v, c) => restored.Contains(c) ? new ColumnVector(schema.Types[c], b.RowCount, validity: new ulong[ColumnVector.ValidityWords(b.RowCount)]) : v)],
        b.RowCount);

    private static bool AllNull(ColumnVector v, int rows)
    {
        for (var r = 0; r < rows; r++)
        {
            if (v.IsValid(r))
            {
                return false;
            }
        }
        return true;
    }

    private Instance Take()
    {
        if (_warm.TryDequeue(out var warm))
        {
            return warm;
        }
        var fresh = OpenInstance();
        Replenish();
        return fresh;
    }

    private void Return(Instance instance, bool pristine)
    {
        if (pristine && !_disposed && _warm.Count < Math.Max(1, _options.WarmInstances))
        {
            _warm.Enqueue(instance);
            return;
        }
        instance.Dispose();
        Replenish();
    }

    /// <summary>Tops the warm pool up in the background (one filler at a time; pool threads never keep the process alive).</summary>
    private void Replenish()
    {
        if (_options.WarmInstances <= 0 || _disposed || Interlocked.CompareExchange(ref _replenishing, 1, 0) != 0)
        {
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static engine =>
        {
            try
            {
                while (!engine._disposed && engine._warm.Count < engine._options.WarmInstances)
                {
                    var opened = engine.OpenInstance();
                    if (engine._warm.Count >= engine._options.WarmInstances)
                    {
                        // A job returned its instance while this one opened: the pool stays at its size.
                        opened.Dispose();
                        break;
                    }
                    engine._warm.Enqueue(opened);
                }
            }
            catch
            {
                // A failed warm-up is not an error: the next job opens its own instance and reports any failure.
            }
            finally
            {
                Volatile.Write(ref engine._replenishing, 0);
            }
            if (engine._disposed)
            {
                engine.DrainWarm();
            }
        }, this, preferLocal: false);
    }

    private void DrainWarm()
    {
        while (_warm.TryDequeue(out var i))
        {
            i.Dispose();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        DrainWarm();
        if (_options.SpillPolicy == global::Duckton.Core.Configuration.TempDirPolicy.Inherit && _processSpill is not null)
        {
            DeleteQuietly(_processSpill);
        }
    }

    private Instance OpenInstance()
    {
        var spill = SpillDirectoryForInstance();
        try
        {
            var sql = spill is null ? _lockdownSql : LockdownSqlFor(_options, spill);
            // Ephemeral: the directory is the instance's own and goes with it.
            return Instance.Open(_settings, sql, _options.SpillPolicy == global::Duckton.Core.Configuration.TempDirPolicy.Ephemeral ? spill : null);
        }
        catch
        {
            if (_options.SpillPolicy == global::Duckton.Core.Configuration.TempDirPolicy.Ephemeral && spill is not null)
            {
                DeleteQuietly(spill);
            }
            throw;
        }
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A spill file still held open (a job being torn down) or gone already: nothing a caller can act on.
        }
    }

    private sealed class Instance : IDisposable
    {
        private readonly string? _ownSpill;
        private readonly DateTime _ownSpillWritten;

        private Instance(DuckDBDatabase database, string? ownSpill)
        {
            Database = database;
            _ownSpill = ownSpill;
            _ownSpillWritten = ownSpill is null ? default : Directory.GetLastWriteTimeUtc(ownSpill);
        }

        /// <summary>
        /// True when the instance has no spill directory of its own, or nothing was ever created in it: DuckDB deletes
        /// its temp files when a query ends, so emptiness alone would not show that a job's rows were once there; the
        /// directory's modification time does (it changes with every file created or removed in it).
        /// </summary>
        public bool SpillUntouched()
        {
            if (_ownSpill is null)
            {
                return true;
            }
            try
            {
                return Directory.GetLastWriteTimeUtc(_ownSpill) == _ownSpillWritten && !Directory.EnumerateFileSystemEntries(_ownSpill).Any();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        public DuckDBDatabase Database { get; }

        /// <summary>The connection of this instance's last job, kept for the next; see <see cref="LockedDownEngine.OnInstance"/>.</summary>
        private DuckDBConnection? _kept;

        /// <summary>The kept connection, or a new one (counted in <paramref name="opened"/>).</summary>
        public DuckDBConnection TakeConnection(ref long opened)
        {
            if (Interlocked.Exchange(ref _kept, null) is { } kept)
            {
                return kept;
            }
            Interlocked.Increment(ref opened);
            return Database.Connect();
        }

        public void KeepConnection(DuckDBConnection connection) => Interlocked.Exchange(ref _kept, connection)?.Dispose();

        public static Instance Open(KeyValuePair<string, string>[] settings, string lockdownSql, string? ownSpill)
        {
            var db = DuckDBDatabase.Open(null, settings);
            try
            {
                using (var connection = db.Connect())
                {
                    connection.Execute(lockdownSql);
                }
                return new Instance(db, ownSpill);
            }
            catch
            {
                db.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            Interlocked.Exchange(ref _kept, null)?.Dispose();
            Database.Dispose(); // closes DuckDB's temp files first
            if (_ownSpill is not null)
            {
                DeleteQuietly(_ownSpill);
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using Duckton.Core.Data;
using Duckton.DuckDB;

namespace Duckton.Engine;

/// <summary>
/// Runs untrusted SQL in a fresh, locked-down, in-memory DuckDB per job: no extension install or load, no
/// unsigned or community extensions, no external access, the local file system disabled, secrets redacted,
/// then the configuration locked so the SQL cannot undo any of it. Instances are opened ahead of time.
/// </summary>
public sealed class LockedDownEngine : IDisposable
{
    private readonly ConcurrentQueue<Instance> _warm = new();
    private readonly EngineOptions _options;
    private readonly KeyValuePair<string, string>[] _settings;
    private int _replenishing;
    private volatile bool _disposed;

    public LockedDownEngine(EngineOptions? options = null)
    {
        _options = options ?? EngineOptions.Default;
        _settings = LockdownSettings(_options);
        Replenish();
    }

    public EngineOptions Options => _options;

    /// <summary>The start-up settings of every job instance, in order; <see cref="LockdownSql"/> follows them.</summary>
    public static KeyValuePair<string, string>[] LockdownSettings(EngineOptions options) =>
    [
        new("max_memory", (Math.Max(64L << 20, options.MemoryLimitBytes) >> 20).ToString(CultureInfo.InvariantCulture) + "MB"),
        new("threads", Math.Max(1, options.Threads).ToString(CultureInfo.InvariantCulture)),
        new("autoinstall_known_extensions", "false"),
        new("autoload_known_extensions", "false"),
        new("allow_community_extensions", "false"),
        new("allow_unsigned_extensions", "false"),
        new("enable_external_access", "false"),
        new("allow_unredacted_secrets", "false"),
    ];

    /// <summary>
    /// Run on each new instance after open (these settings cannot be given at open time). <c>lock_configuration</c>
    /// comes last: after it no <c>SET</c> can loosen anything.
    /// </summary>
    public const string LockdownSql = "SET disabled_filesystems='LocalFileSystem'; SET lock_configuration=true;";

    /// <summary>Runs <paramref name="sql"/> and materialises its result. DuckDB's error text is kept in the exception.</summary>
    /// <remarks>
    /// Each job gets its own connection on an instance nobody has changed. A single read-only SELECT cannot change
    /// an instance (no catalog or setting changes, and settings are locked), so that instance goes back to the warm
    /// pool afterwards; an instance that ran anything else (DDL, DML, several statements) is closed, never reused.
    /// </remarks>
    public ResultSet Execute(string sql, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var instance = Take();
        var pristine = false;
        try
        {
            using var connection = instance.Database.Connect();
            using var registration = cancellationToken.Register(static c => ((DuckDBConnection)c!).Interrupt(), connection);
            try
            {
                using var statement = connection.TryPrepare(sql, out var prepareError);
                if (statement is null)
                {
                    // Nothing ran; the instance is untouched. Several statements cannot be prepared at once: run them as a script.
                    pristine = true;
                    if (prepareError is not null && !prepareError.Contains("multiple statements", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new DuckDBException(prepareError);
                    }
                    pristine = false;
                    return connection.QueryAll(sql, _options.MaxResultBytes);
                }
                pristine = statement.StatementType == DuckDBStatementType.Select;
                using var result = statement.Execute();
                return result.ReadAll(_options.MaxResultBytes);
            }
            catch (DuckDBException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("the query was cancelled", cancellationToken);
            }
        }
        finally
        {
            Return(instance, pristine);
        }
    }

    private Instance Take()
    {
        if (_warm.TryDequeue(out var warm))
        {
            return warm;
        }
        var fresh = Instance.Open(_settings);
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
                    engine._warm.Enqueue(Instance.Open(engine._settings));
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
    }

    private sealed class Instance : IDisposable
    {
        private Instance(DuckDBDatabase database) => Database = database;

        public DuckDBDatabase Database { get; }

        public static Instance Open(KeyValuePair<string, string>[] settings)
        {
            var db = DuckDBDatabase.Open(null, settings);
            try
            {
                using (var connection = db.Connect())
                {
                    connection.Execute(LockdownSql);
                }
                return new Instance(db);
            }
            catch
            {
                db.Dispose();
                throw;
            }
        }

        public void Dispose() => Database.Dispose();
    }
}

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
    public ResultSet Execute(string sql, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        using var instance = Take();
        using var registration = cancellationToken.Register(static c => ((DuckDBConnection)c!).Interrupt(), instance.Connection);
        try
        {
            return instance.Connection.QueryAll(sql, _options.MaxResultBytes);
        }
        catch (DuckDBException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("the query was cancelled", cancellationToken);
        }
    }

    private Instance Take()
    {
        var instance = _warm.TryDequeue(out var warm) ? warm : Instance.Open(_settings);
        Replenish();
        return instance;
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
        private Instance(DuckDBDatabase database, DuckDBConnection connection)
        {
            Database = database;
            Connection = connection;
        }

        public DuckDBDatabase Database { get; }
        public DuckDBConnection Connection { get; }

        public static Instance Open(KeyValuePair<string, string>[] settings)
        {
            var db = DuckDBDatabase.Open(null, settings);
            try
            {
                var connection = db.Connect();
                try
                {
                    connection.Execute(LockdownSql);
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
                return new Instance(db, connection);
            }
            catch
            {
                db.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            Connection.Dispose();
            Database.Dispose();
        }
    }
}

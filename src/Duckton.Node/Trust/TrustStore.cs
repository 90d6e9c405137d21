using System.Globalization;
using System.Text;
using Duckton.Core.Data;
using Duckton.Core.Trust;
using Duckton.DuckDB;

namespace Duckton.Node.Trust;

/// <summary>What a deny-list entry names.</summary>
public enum BlockKind
{
    NodeId,
    Wallet,
}

/// <summary>One deny-list entry.</summary>
/// <summary>
/// Objective evidence that a host answered wrongly: <paramref name="Proof"/> is the host's own signed commit (anyone can
/// check its signature), <paramref name="Kind"/> says what it contradicts (see <see cref="EvidenceKinds"/>).
/// </summary>
public sealed record EvidenceEntry(string NodeId, string Kind, string JobId, string Detail, byte[] Proof, DateTimeOffset At);

/// <summary>The kinds of evidence the trust engine records.</summary>
internal static class EvidenceKinds
{
    /// <summary>A signed commit to a canary whose answer this node computed itself.</summary>
    public const string WrongCanary = "wrong_canary";
    /// <summary>A signed commit contradicting a quorum certificate signed only by vetted hosts without evidence.</summary>
    public const string ContradictsCertificate = "contradicts_certificate";
}

public sealed record BlockEntry(string Id, BlockKind Kind, string Reason, string Source, DateTimeOffset Timestamp);

/// <summary>One host this node has seen (from its verified advert), persisted so <c>p2p_peers()</c> lists it in later sessions.</summary>
public sealed record KnownPeer(string NodeId, string Address, byte Attestation, ulong FreeMemoryBytes, uint FreeThreads, uint MaxJobs, string Region, bool Enabled,
    DateTimeOffset FirstSeen, DateTimeOffset LastSeen, double? RttMs)
{
    public IReadOnlyList<string> Networks { get; init; } = [];
    public IReadOnlyList<string> Groups { get; init; } = [];
}

/// <summary>
/// The node's persistent trust state — receipts, penalties, vouches, the deny-list, vetting outcomes, flags, measured
/// performance and the peers it has seen — in an embedded DuckDB database file (<c>trust/trust.duckdb</c> in the
/// config dir), so a node killed with SIGKILL restarts with it.
/// <para>
/// Any number of processes may share one config directory (a host, shells, the extension in other clients). Each uses
/// the file in short <em>sessions</em> (a flush, a synchronous write or a read) while holding an exclusive OS lock on
/// <c>trust/trust.lock</c>, and every session first merges what other processes committed since this one last looked.
/// A busy process keeps the file attached between its sessions until another process waits for the lock or it has been
/// idle for <see cref="KeepAttached"/>. Every committed change carries a store-wide sequence number
/// (<c>meta.seq</c>, one per session), so a merge reads only rows newer than the last one it saw; receipts have a
/// unique key (worker, replay fingerprint), so merging them is idempotent. The latest sequence numbers are also
/// published in a tiny memory-mapped file (<c>trust/trust.seq</c>): the query path learns of a new deny-list entry
/// from another process with one memory read, without opening any file, and reloads the deny-list before deciding.
/// </para>
/// <para>
/// Penalties, vouches, vetting, flags and deny-list changes are committed before the call returns. Receipts, job
/// records, performance samples and seen peers are written behind: the query path only updates an in-memory ledger per
/// worker (or queues the record) and a background writer commits them, batched in one session, within <see cref="WriteBehindWindow"/>;
/// the same writer merges other processes' changes at least every <see cref="MergeInterval"/>. Anything that reads
/// from the file (and what users are shown: p2p_peers, p2p_receipts, p2p_status) flushes first. Reputation comes
/// from running sums in the ledger, decayed to "now" at read time.
/// </para>
/// </summary>
public sealed partial class TrustStore : IDisposable
{
    // 3: the evidence table; 4: the canaries and drift tables; 5: job_records and record_epochs; 6: receipts and job_records
    // without a unique index (see DropGrowingKeys); 7: canaries without one too.
    private const int SchemaVersion = 7;
    private readonly string _file;
    private readonly string _lockFile;
    /// <summary>An in-memory DuckDB instance for the life of the store; the file is attached to it only during a session.</summary>
    private readonly DuckDBDatabase _instance;
    private readonly DuckDBConnection _connection;
    private readonly SharedSequence _published;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _generations = new(StringComparer.Ordinal);
    private volatile HashSet<string>? _blocked;
    private bool _schemaReady;
    private bool _loaded;
    private long _mergedSeq;
    /// <summary>The file's sequence numbers (<c>meta.seq</c>, <c>meta.block_seq</c>) while this process holds it attached; null when not known.</summary>
    private (long Seq, long BlockSeq)? _fileSeqs;
    private long _blockSeqSeen = -1;
    /// <summary>The OS lock while the file stays attached between sessions (see <see cref="KeepAttached"/>); null when closed.</summary>
    private FileLock? _held;
    private long _attachedAt;
    private long _lastSessionAt;
    private Thread? _holdWatcher;
    private readonly SemaphoreSlim _attachedSignal = new(0);
    private bool _stopWatching;
    private bool _disposing;

    /// <summary>
    /// Longest a session waits for other processes' sessions. Each lasts milliseconds, but many processes on one store
    /// (shells sharing a config directory) starting together on a starved machine queue behind each other.
    /// </summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How often the background writer merges other processes' changes into this process's view.</summary>
    public static readonly TimeSpan MergeInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Raised (on the thread that merged) when changes from another process to vetting, flags or performance were merged.</summary>
    public event Action? ExternalChange;

    /// <summary>What the query path needs about one worker, kept in memory (guarded by locking the ledger itself).</summary>
    private sealed class Ledger
    {
        public readonly HashSet<ulong> Replays = [];
        public readonly List<(long Ts, Verdict Verdict, string Requester)> Outcomes = [];
        public double Penalties;
        /// <summary>(voucher, weight) of the positive vouches about this worker from others.</summary>
        public List<(string Voucher, double Weight)> Vouches = [];

        /// <summary>Running reputation sums per (half-life, requester filter), see <c>ReputationOf</c>.</summary>
        public readonly Dictionary<string, RunningSums> Sums = new(StringComparer.Ordinal);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Ledger> _ledgers = new(StringComparer.Ordinal);
    private readonly Lock _pendingGate = new();
    private List<Receipt> _pending = [];
    private Dictionary<string, KnownPeer> _pendingPeers = new(StringComparer.Ordinal);
    private List<VerificationEvent> _pendingEvents = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stopWriter = new();
    private readonly Task _writer;
    private bool _disposed;

    private TrustStore(string file, TimeProvider time)
    {
        _instance = DuckDBDatabase.Open(null, s_storeSettings);
        _connection = _instance.Connect();
        _connection.Execute(StagingSchema);
        _file = file;
        _lockFile = Path.Combine(Path.GetDirectoryName(file)!, "trust.lock");
        _time = time;
        _published = new SharedSequence(Path.Combine(Path.GetDirectoryName(file)!, "trust.seq"));
        try
        {
            Session(_ => 0); // creates or upgrades the schema and loads the ledgers: a broken store fails here, not mid-query
        }
        catch
        {
            StopWatching();
            _published.Dispose();
            _connection.Dispose();
            _instance.Dispose();
            throw;
        }
        _writer = Task.Factory.StartNew(WriteBehindAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Opens (creating if needed) the store under <paramref name="configDirectory"/>, or at <paramref name="storePath"/> when given.</summary>
    public static TrustStore Open(string configDirectory, string? storePath = null, TimeProvider? time = null)
    {
        var dir = string.IsNullOrEmpty(storePath) ? Path.Combine(configDirectory, "trust") : storePath;
        // Only a directory duckton creates is made owner-only: an existing one (trust.store_path may name a shared
        // directory) keeps its mode; the store file itself is owner-only either way.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var file = Path.Combine(dir, "trust.duckdb");
        try
        {
            var store = new TrustStore(file, time ?? TimeProvider.System);
            if (!OperatingSystem.IsWindows())
            {
                // DuckDB creates the file with the process umask (often 0644); narrow it right after.
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            return store;
        }
        catch (DuckDBException e)
        {
            throw new DuckDBException($"cannot open the trust store {file}: {e.Message}", e);
        }
    }

    private static readonly KeyValuePair<string, string>[] s_storeSettings = [new("threads", "1")];

    /// <summary>
    /// Runs <paramref name="body"/> in a session: under the OS lock, with the file open, after merging other
    /// processes' changes and committing this process's pending writes. Serialized within the process by <c>_gate</c>.
    /// </summary>
    private T Session<T>(Func<DuckDBConnection, T> body, bool forcePerf = false)
    {
        T result;
        bool external;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var connection = _connection;
            AttachLocked(connection);
            var clean = false;
            try
            {
                if (!_schemaReady)
                {
                    // Only a new or older store is written to here: most sessions of a starting process stay read-only (cheap).
                    if (!SchemaIsCurrent(connection))
                    {
                        CreateSchema(connection);
                    }
                    _schemaReady = true;
                }
                // While the file stayed attached no other process could write: the sequence numbers are the ones this
                // process last read or wrote, and there is nothing to merge.
                var (seq, blockSeq) = _fileSeqs ??= ReadSeqs(connection);
                external = MergeLocked(connection, seq, blockSeq);
                FlushLocked(connection, forcePerf);
                result = body(connection);
                // Everything up to here is merged (this session's own writes included); a deny-list change is reloaded now.
                (seq, blockSeq) = _fileSeqs ?? ReadSeqs(connection);
                if (blockSeq != _blockSeqSeen)
                {
                    ReloadBlockedLocked(connection);
                }
                Volatile.Write(ref _mergedSeq, seq);
                _published.Publish(seq, blockSeq);
                clean = true;
            }
            finally
            {
                _lastSessionAt = Environment.TickCount64;
                // After a failure the file is closed at once, so the next session starts from what is on disk.
                if (!clean || _disposing || _published.WantedAt > _attachedAt)
                {
                    DetachLocked(connection);
                }
            }
        }
        if (external)
        {
            ExternalChange?.Invoke(); // outside the gate: handlers read the store in sessions of their own
        }
        return result;
    }

    /// <summary>
    /// Longest the file stays attached after this process's last session while no other process waits for it. Keeping
    /// it open between the write-behind windows of a busy node saves the attach and, above all, the checkpoint DuckDB
    /// runs when a database is detached (a third of a busy node's CPU when paid every window); commits still reach the
    /// write-ahead log and its fsync, so a SIGKILL loses nothing more than before.
    /// </summary>
    public static readonly TimeSpan KeepAttached = TimeSpan.FromSeconds(1);

    /// <summary>How often a process holding the file looks whether another one waits for it.</summary>
    private static readonly TimeSpan s_holdCheck = TimeSpan.FromMilliseconds(5);

    /// <summary>Takes the OS lock and attaches the file, unless this process still holds both from an earlier session.</summary>
    private void AttachLocked(DuckDBConnection connection)
    {
        if (_held is not null)
        {
            return; // no other process could write meanwhile: the lock was held all along
        }
        var held = FileLock.Acquire(_lockFile, LockTimeout, _published.Want);
        try
        {
            // Attaching the file to this process's long-lived in-memory instance costs a few milliseconds; opening a
            // new database instance per session cost tens (DuckDB's start-up), which every merge and flush would pay.
            connection.Execute($"USE memory; DETACH DATABASE IF EXISTS trust_store; ATTACH '{_file.Replace("'", "''", StringComparison.Ordinal)}' AS trust_store; USE trust_store");
        }
        catch
        {
            held.Dispose();
            throw;
        }
        _held = held;
        _attachedAt = Environment.TickCount64;
        if (_holdWatcher is null)
        {
            // Its own thread, not a thread-pool timer: a process whose pool is starved (callers blocking pool threads)
            // must still let go at once, or every other process sharing the store waits for it. Checks use the system's
            // monotonic clock: the lock is shared with other processes in real time, whatever clock the records use.
            _holdWatcher = new Thread(WatchHold) { IsBackground = true, Name = "trust store hold" };
            _holdWatcher.Start();
        }
        _attachedSignal.Release();
    }

    /// <summary>While the file is attached, looks every few milliseconds whether to let it go; sleeps otherwise.</summary>
    private void WatchHold()
    {
        while (true)
        {
            _attachedSignal.Wait();
            while (!Volatile.Read(ref _stopWatching))
            {
                Thread.Sleep(s_holdCheck);
                if (LetGoIfWantedOrIdle())
                {
                    break;
                }
            }
            if (Volatile.Read(ref _stopWatching))
            {
                return;
            }
        }
    }

    /// <summary>Detaches the file (DuckDB checkpoints it) and then releases the OS lock: the next process finds it closed and committed.</summary>
    private void DetachLocked(DuckDBConnection connection)
    {
        if (_held is null)
        {
            return;
        }
        _fileSeqs = null;
        _storedJobKeys = null; // another process may store records once the file is let go
        try
        {
            connection.ForgetKeptStatements(); // they are bound to the attached file's catalog
            connection.Execute("USE memory; DETACH DATABASE trust_store");
        }
        finally
        {
            _held.Dispose();
            _held = null;
        }
    }

    private void StopWatching()
    {
        Volatile.Write(ref _stopWatching, true);
        _attachedSignal.Release();
        _holdWatcher?.Join(TimeSpan.FromSeconds(5));
        _attachedSignal.Dispose();
    }

    /// <summary>Detaches when another process waits or this one has been idle; true once the file is no longer attached.</summary>
    private bool LetGoIfWantedOrIdle()
    {
        // Never waits for a session in progress: that session looks for waiters itself when it ends.
        if (!_gate.TryEnter())
        {
            return false;
        }
        try
        {
            if (_held is not null && !_disposed
                && (_published.WantedAt > _attachedAt || Environment.TickCount64 - _lastSessionAt >= (long)KeepAttached.TotalMilliseconds))
            {
                DetachLocked(_connection);
            }
        }
        catch (Exception e) when (e is DuckDBException or IOException)
        {
            // The lock is released whatever DETACH said (DetachLocked's finally); the next session attaches afresh.
        }
        finally
        {
            _gate.Exit();
        }
        return Volatile.Read(ref _held) is null;
    }

    private static void CreateSchema(DuckDBConnection connection)
    {
        connection.Execute("""
            CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
            CREATE TABLE IF NOT EXISTS receipts (
                worker_id VARCHAR NOT NULL, replay_fp UBIGINT NOT NULL, job_id VARCHAR NOT NULL, requester_id VARCHAR NOT NULL,
                query_hash VARCHAR, input_fingerprint VARCHAR, result_hash VARCHAR, verdict UTINYINT NOT NULL,
                latency_ms UBIGINT, ts UBIGINT NOT NULL, observed_input_bytes UBIGINT, observed_result_rows UBIGINT,
                observed_result_bytes UBIGINT, requester_pubkey BLOB, signature BLOB, received_at TIMESTAMPTZ DEFAULT now(), seq UBIGINT);
            CREATE TABLE IF NOT EXISTS penalties (worker_id VARCHAR NOT NULL, amount DOUBLE NOT NULL, reason VARCHAR, ts UBIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS vouches (voucher_id VARCHAR NOT NULL, worker_id VARCHAR NOT NULL, weight DOUBLE NOT NULL, ts UBIGINT NOT NULL, PRIMARY KEY (voucher_id, worker_id));
            CREATE TABLE IF NOT EXISTS blocklist (id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, reason VARCHAR, source VARCHAR, ts UBIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS vetting (node_id VARCHAR PRIMARY KEY, passed BOOLEAN NOT NULL, ts_ms UBIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS flags (node_id VARCHAR PRIMARY KEY, reason VARCHAR NOT NULL, ts_ms UBIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS evidence (node_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, job_id VARCHAR NOT NULL, detail VARCHAR NOT NULL,
                proof BLOB NOT NULL, ts_ms UBIGINT NOT NULL, seq UBIGINT, PRIMARY KEY (node_id, job_id));
            CREATE TABLE IF NOT EXISTS perf (node_id VARCHAR PRIMARY KEY, latency_ms DOUBLE NOT NULL, bytes DOUBLE NOT NULL, samples BIGINT NOT NULL,
                byte_samples BIGINT NOT NULL, ts_ms UBIGINT NOT NULL);
            CREATE TABLE IF NOT EXISTS peers (node_id VARCHAR PRIMARY KEY, addr VARCHAR NOT NULL, attestation UTINYINT NOT NULL, free_memory_bytes UBIGINT NOT NULL,
                free_threads UBIGINT NOT NULL, max_jobs UBIGINT NOT NULL, region VARCHAR NOT NULL, enabled BOOLEAN NOT NULL, first_seen_ms UBIGINT NOT NULL,
                last_seen_ms UBIGINT NOT NULL, rtt_ms DOUBLE, seq UBIGINT, networks VARCHAR, groups VARCHAR);
            CREATE TABLE IF NOT EXISTS canaries (job_id VARCHAR NOT NULL, node_id VARCHAR NOT NULL, verdict UTINYINT NOT NULL, ts_ms UBIGINT NOT NULL, seq UBIGINT);
            CREATE TABLE IF NOT EXISTS drift (job_id VARCHAR NOT NULL, drifted BIGINT NOT NULL, ts_ms UBIGINT NOT NULL, seq UBIGINT);
            CREATE TABLE IF NOT EXISTS job_records (job_id VARCHAR NOT NULL, query_hash VARCHAR NOT NULL, result_hash VARCHAR NOT NULL,
                certificate_hash BLOB NOT NULL, requester VARCHAR NOT NULL, winner VARCHAR NOT NULL, ts_ms UBIGINT NOT NULL, epoch UBIGINT, leaf_index UBIGINT);
            CREATE TABLE IF NOT EXISTS record_epochs (epoch UBIGINT PRIMARY KEY, root BLOB NOT NULL, leaf_count UBIGINT NOT NULL, sealed_ms UBIGINT NOT NULL,
                network VARCHAR, anchor_address VARCHAR, anchor_tx VARCHAR, anchored_ms UBIGINT);
            ALTER TABLE vouches ADD COLUMN IF NOT EXISTS ts_ms UBIGINT;
            ALTER TABLE vouches ADD COLUMN IF NOT EXISTS voucher_pubkey BLOB;
            ALTER TABLE vouches ADD COLUMN IF NOT EXISTS signature BLOB;
            ALTER TABLE vouches ADD COLUMN IF NOT EXISTS received_at UBIGINT;
            ALTER TABLE receipts ADD COLUMN IF NOT EXISTS seq UBIGINT;
            ALTER TABLE penalties ADD COLUMN IF NOT EXISTS seq UBIGINT;
            ALTER TABLE vouches ADD COLUMN IF NOT EXISTS seq UBIGINT;
            ALTER TABLE vetting ADD COLUMN IF NOT EXISTS seq UBIGINT;
            ALTER TABLE flags ADD COLUMN IF NOT EXISTS seq UBIGINT;
            ALTER TABLE perf ADD COLUMN IF NOT EXISTS seq UBIGINT;
            INSERT OR IGNORE INTO meta VALUES ('seq', '0');
            INSERT OR IGNORE INTO meta VALUES ('block_seq', '0');
            """);
        DropGrowingKeys(connection);
        connection.QueryWith("INSERT OR REPLACE INTO meta VALUES ('schema_version', $1)", SchemaVersion.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Rebuilds a store written before schema 6 without the unique index on receipts (worker, replay fingerprint) and
    /// job records (job id), and before schema 7 on canaries (job id). DuckDB rewrites an index in full at every
    /// checkpoint, and a session checkpoints when it detaches the file, so with the index every write-behind commit cost
    /// time proportional to all rows ever stored (about 1 ms per 600 receipts here; 100 ms per commit at 60,000).
    /// Uniqueness is kept by the inserts: receipts and job records skip rows whose key is already stored (under the
    /// store's lock, so no other process inserts meanwhile); a canary's job id is fresh and recorded once by the process
    /// that ran it.
    /// </summary>
    private static void DropGrowingKeys(DuckDBConnection connection)
    {
        foreach (var table in new[] { "receipts", "job_records", "canaries" })
        {
            var keyed = connection.QueryWith("SELECT count(*) FROM duckdb_constraints() WHERE database_name = 'trust_store' AND table_name = $1 " +
                "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')", table);
            if (ReadLong(keyed, 0, 0) == 0)
            {
                continue;
            }
            var columns = connection.QueryWith("SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() WHERE database_name = 'trust_store' " +
                "AND table_name = $1 ORDER BY column_index", table);
            var definitions = new List<string>();
            ForEachRow(columns, (b, r) => definitions.Add($"\"{Text(b, 0, r)}\" {Text(b, 1, r)}" +
                $"{(b.Columns[3].IsValid(r) ? " DEFAULT " + Text(b, 3, r) : "")}{(b.Columns[2].IsValid(r) && b.Columns[2].GetFixed(r)[0] == 0 ? " NOT NULL" : "")}"));
            connection.Execute("BEGIN TRANSACTION");
            try
            {
                connection.Execute($"CREATE TABLE {table}_unkeyed ({string.Join(", ", definitions)}); INSERT INTO {table}_unkeyed BY NAME SELECT * FROM {table}; " +
                    $"DROP TABLE {table}; ALTER TABLE {table}_unkeyed RENAME TO {table}; COMMIT");
            }
            catch
            {
                connection.Execute("ROLLBACK");
                throw;
            }
        }
    }

    private static bool SchemaIsCurrent(DuckDBConnection connection)
    {
        var tables = connection.QueryWith("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'trust_store' AND table_name = 'meta'");
        if (ReadLong(tables, 0, 0) == 0)
        {
            return false;
        }
        var version = connection.QueryWith("SELECT coalesce(max(value), '') FROM meta WHERE key = 'schema_version'");
        return version.RowCount > 0 && Text(version.Batches[0], 0, 0) == SchemaVersion.ToString(CultureInfo.InvariantCulture);
    }

    private static (long Seq, long BlockSeq) ReadSeqs(DuckDBConnection connection)
    {
        var rows = connection.QueryKept("SELECT (SELECT value FROM meta WHERE key = 'seq')::BIGINT, (SELECT value FROM meta WHERE key = 'block_seq')::BIGINT");
        return (ReadLong(rows, 0, 0), ReadLong(rows, 1, 0));
    }

    /// <summary>
    /// Claims the next store-wide sequence number for this session's writes (inside its transaction). A failed
    /// transaction fails its session, which detaches the file and forgets the numbers (see <see cref="_fileSeqs"/>).
    /// </summary>
    private long NextSeq(DuckDBConnection connection, bool block = false)
    {
        // Kept prepared, without a parameter (see QueryKept): this runs in every write session.
        var rows = connection.QueryKept(block
            ? "UPDATE meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'block_seq' RETURNING value::BIGINT"
            : "UPDATE meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'seq' RETURNING value::BIGINT");
        var next = ReadLong(rows, 0, 0);
        if (_fileSeqs is var (seq, blockSeq))
        {
            _fileSeqs = block ? (seq, next) : (next, blockSeq);
        }
        return next;
    }

    /// <summary>
    /// Brings this process's in-memory view up to date with the file: everything on first use, afterwards only rows
    /// stamped with a sequence number newer than the last merged one. Returns true when another process changed
    /// vetting, flags or performance (the trust engine reloads its copies).
    /// </summary>
    private bool MergeLocked(DuckDBConnection connection, long seq, long blockSeq)
    {
        if (blockSeq != _blockSeqSeen)
        {
            ReloadBlockedLocked(connection);
        }
        if (_loaded && seq == _mergedSeq)
        {
            return false;
        }
        var since = _loaded ? _mergedSeq : -1;
        var touched = new HashSet<string>(StringComparer.Ordinal);
        // Receipts: idempotent by replay fingerprint. A stored receipt this process already counted is one it also
        // accepted itself and has not committed yet (its committed ones are not newer than the last merge): the flush
        // that follows in this session leaves it out (see _storedElsewhere).
        ForEachRow(connection.QueryWith("SELECT worker_id, replay_fp::VARCHAR, ts::BIGINT, verdict::BIGINT, requester_id FROM receipts WHERE coalesce(seq, 0)::BIGINT > $1 ORDER BY ts",
            since), (b, r) =>
        {
            var worker = Text(b, 0, r);
            var fingerprint = ulong.Parse(Text(b, 1, r), CultureInfo.InvariantCulture);
            var ledger = _ledgers.GetOrAdd(worker, _ => new Ledger());
            lock (ledger)
            {
                if (ledger.Replays.Add(fingerprint))
                {
                    ledger.Outcomes.Add((Long(b, 2, r), (Verdict)Long(b, 3, r), Text(b, 4, r)));
                    touched.Add(worker);
                }
                else
                {
                    _storedElsewhere.Add((worker, fingerprint));
                }
            }
        });
        // Penalties and vouches: recomputed for each worker they changed for (adding penalties twice would count them twice).
        ForEachRow(connection.QueryWith(
            "SELECT worker_id, coalesce(sum(amount), 0)::DOUBLE FROM penalties WHERE worker_id IN (SELECT worker_id FROM penalties WHERE coalesce(seq, 0)::BIGINT > $1) GROUP BY 1",
            since), (b, r) =>
        {
            var worker = Text(b, 0, r);
            var ledger = _ledgers.GetOrAdd(worker, _ => new Ledger());
            lock (ledger)
            {
                ledger.Penalties = BitConverter.ToDouble(b.Columns[1].GetFixed(r));
            }
            touched.Add(worker);
        });
        var vouches = new Dictionary<string, List<(string Voucher, double Weight)>>(StringComparer.Ordinal);
        ForEachRow(connection.QueryWith("SELECT DISTINCT worker_id FROM vouches WHERE coalesce(seq, 0)::BIGINT > $1", since), (b, r) => vouches[Text(b, 0, r)] = []);
        if (vouches.Count > 0)
        {
            ForEachRow(connection.QueryWith(
                "SELECT worker_id, voucher_id, weight FROM vouches WHERE worker_id IN (SELECT worker_id FROM vouches WHERE coalesce(seq, 0)::BIGINT > $1) " +
                "AND weight > 0 AND voucher_id <> worker_id ORDER BY worker_id, voucher_id", since),
                (b, r) => vouches[Text(b, 0, r)].Add((Text(b, 1, r), BitConverter.ToDouble(b.Columns[2].GetFixed(r)))));
        }
        if (vouches.Count > 0 || !_loaded)
        {
            ReloadRecentSignedLocked(connection);
        }
        foreach (var (worker, list) in vouches)
        {
            var ledger = _ledgers.GetOrAdd(worker, _ => new Ledger());
            lock (ledger)
            {
                ledger.Vouches = list;
            }
            touched.Add(worker);
        }
        foreach (var worker in touched)
        {
            Bump(worker);
        }
        var external = _loaded && ReadLong(connection.QueryWith(
            "SELECT (SELECT count(*) FROM vetting WHERE coalesce(seq, 0)::BIGINT > $1) + (SELECT count(*) FROM flags WHERE coalesce(seq, 0)::BIGINT > $1) " +
            "+ (SELECT count(*) FROM evidence WHERE coalesce(seq, 0)::BIGINT > $1) " +
            "+ (SELECT count(*) FROM perf WHERE coalesce(seq, 0)::BIGINT > $1)", since), 0, 0) > 0;
        _loaded = true;
        Volatile.Write(ref _mergedSeq, seq);
        return external;
    }

    private void ReloadVouchesLocked(DuckDBConnection connection, string workerId)
    {
        var vouches = new List<(string Voucher, double Weight)>();
        ForEachRow(connection.QueryWith("SELECT voucher_id, weight FROM vouches WHERE worker_id = $1 AND weight > 0 AND voucher_id <> $1 ORDER BY voucher_id", workerId),
            (b, r) => vouches.Add((Text(b, 0, r), BitConverter.ToDouble(b.Columns[1].GetFixed(r)))));
        var ledger = _ledgers.GetOrAdd(workerId, _ => new Ledger());
        lock (ledger)
        {
            ledger.Vouches = vouches;
        }
    }

    /// <summary>The most recently received signed vouches (up to 128), newest first: what the node gossips. In memory, kept current by writes and merges.</summary>
    public IReadOnlyList<Vouch> RecentSignedVouches { get; private set; } = [];

    private void ReloadRecentSignedLocked(DuckDBConnection connection)
    {
        var rows = connection.QueryWith(
            "SELECT voucher_id, worker_id, weight, coalesce(ts_ms, ts * 1000)::BIGINT, voucher_pubkey, signature FROM vouches " +
            "WHERE voucher_pubkey IS NOT NULL AND signature IS NOT NULL ORDER BY coalesce(received_at, ts * 1000) DESC, voucher_id, worker_id LIMIT 128");
        var list = new List<Vouch>();
        ForEachRow(rows, (b, r) => list.Add(new Vouch
        {
            VoucherId = Text(b, 0, r),
            VoucheeId = Text(b, 1, r),
            WeightPpm = Vouch.ToPpm(Math.Clamp(BitConverter.ToDouble(b.Columns[2].GetFixed(r)), 0, 1)),
            TimestampMs = (ulong)Long(b, 3, r),
            VoucherPublicKey = b.Columns[4].GetBytes(r).ToArray(),
            Signature = b.Columns[5].GetBytes(r).ToArray(),
        }));
        RecentSignedVouches = list;
    }

    /// <summary>Merges other processes' changes now (the background writer does this every <see cref="MergeInterval"/>).</summary>
    public void Refresh() => Session(_ => 0);

    private ulong Now => (ulong)_time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Changes whenever a receipt, penalty or vouch about <paramref name="workerId"/> is written or merged through this store (for caches).</summary>
    public long Generation(string workerId) => _generations.TryGetValue(workerId, out var g) ? g : 0;

    private void Bump(string workerId) => _generations.AddOrUpdate(workerId, 1, (_, g) => g + 1);

    /// <summary>
    /// Verifies and stores a receipt. Returns false for a replay (the same job and requester already counted for
    /// this worker); throws <see cref="ArgumentException"/> for a forged, tampered or malformed receipt. The receipt
    /// counts at once; it reaches the file within <see cref="WriteBehindWindow"/> (see the class summary).
    /// </summary>
    public bool AddReceipt(Receipt receipt) => AddReceipt(receipt, alreadyChecked: false);

    /// <summary>
    /// As <see cref="AddReceipt(Receipt)"/>; <paramref name="alreadyChecked"/> skips checking a receipt the caller has
    /// just checked (one this node signed, or a gossiped one whose <see cref="Receipt.Problem"/> it has just seen null).
    /// </summary>
    public bool AddReceipt(Receipt receipt, bool alreadyChecked)
    {
        if (!alreadyChecked && receipt.Problem() is { } problem)
        {
            throw new ArgumentException($"receipt rejected: {problem}", nameof(receipt));
        }
        var ledger = LedgerOf(receipt.WorkerId);
        lock (ledger)
        {
            if (!ledger.Replays.Add(receipt.ReplayFingerprint()))
            {
                return false;
            }
            ledger.Outcomes.Add(((long)receipt.Timestamp, receipt.Verdict, receipt.RequesterId));
        }
        lock (_pendingGate)
        {
            _pending.Add(receipt);
        }
        Wake();
        Bump(receipt.WorkerId);
        return true;
    }

    /// <summary>The in-memory ledger of <paramref name="workerId"/> (the whole store is loaded when it is opened; later rows arrive by merging).</summary>
    private Ledger LedgerOf(string workerId) => _ledgers.GetOrAdd(workerId, _ => new Ledger());

    /// <summary>Receipts accepted but not yet committed to the file by the background writer.</summary>
    public int PendingReceipts
    {
        get
        {
            lock (_pendingGate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Commits everything pending — receipts, performance samples, peer sightings — and merges other processes' changes, now, in one session.</summary>
    public void Flush() => Session(_ => 0, forcePerf: true);

    private long _perfFlushed;

    /// <summary>Commits pending receipts, performance samples and seen peers in one transaction stamped with one sequence number.</summary>
    private void FlushLocked(DuckDBConnection connection, bool force)
    {
        List<Receipt> batch;
        List<PendingJobRecord> records;
        List<VerificationEvent> events;
        Dictionary<string, PerfSample> perf;
        Dictionary<string, KnownPeer> peers;
        lock (_pendingGate)
        {
            if (_storedElsewhere.Count > 0)
            {
                _pending.RemoveAll(r => _storedElsewhere.Contains((r.WorkerId, r.ReplayFingerprint())));
                _storedElsewhere.Clear();
            }
            var slowDue = force || _time.GetElapsedTime(_perfFlushed) >= SlowWriteInterval;
            if (_pending.Count == 0 && _pendingRecords.Count == 0 && _pendingEvents.Count == 0 && ((_pendingPerf.Count == 0 && _pendingPeers.Count == 0) || !slowDue))
            {
                return;
            }
            batch = _pending;
            _pending = [];
            records = _pendingRecords;
            _pendingRecords = [];
            events = _pendingEvents;
            _pendingEvents = [];
            // Performance samples and peer sightings change with every query or heartbeat: committed at most every SlowWriteInterval (and on read or Dispose).
            if (slowDue)
            {
                perf = _pendingPerf;
                _pendingPerf = new(StringComparer.Ordinal);
                peers = _pendingPeers;
                _pendingPeers = new(StringComparer.Ordinal);
                _perfFlushed = _time.GetTimestamp();
            }
            else
            {
                perf = [];
                peers = [];
            }
        }
        if (batch.Count == 0 && records.Count == 0 && events.Count == 0 && perf.Count == 0 && peers.Count == 0)
        {
            return;
        }
        var began = false;
        var canaries = Canaries(events);
        try
        {
            connection.Execute("BEGIN TRANSACTION");
            began = true;
            var sequence = (ulong)NextSeq(connection);
            var seq = U(sequence);
            foreach (var (nodeId, p) in perf)
            {
                connection.QueryWith("INSERT OR REPLACE INTO perf VALUES ($1, $2, $3, $4, $5, $6::UBIGINT, $7::UBIGINT)", nodeId, p.LatencyMs, p.Bytes, p.Samples, p.ByteSamples,
                    U((ulong)Math.Max(0, p.At.ToUnixTimeMilliseconds())), seq);
            }
            foreach (var p in peers.Values)
            {
                // first_seen is kept from the stored row; a row from another process with a later sighting wins last_seen.
                connection.QueryWith(
                    "INSERT INTO peers VALUES ($1, $2, $3::UTINYINT, $4::UBIGINT, $5::UBIGINT, $6::UBIGINT, $7, $8, $9::UBIGINT, $10::UBIGINT, $11, $12::UBIGINT, $13, $14) " +
                    "ON CONFLICT (node_id) DO UPDATE SET addr = excluded.addr, attestation = excluded.attestation, free_memory_bytes = excluded.free_memory_bytes, " +
                    "free_threads = excluded.free_threads, max_jobs = excluded.max_jobs, region = excluded.region, enabled = excluded.enabled, " +
                    "last_seen_ms = greatest(peers.last_seen_ms, excluded.last_seen_ms), rtt_ms = coalesce(excluded.rtt_ms, peers.rtt_ms), seq = excluded.seq, " +
                    "networks = excluded.networks, groups = excluded.groups",
                    p.NodeId, p.Address, (long)p.Attestation, U(p.FreeMemoryBytes), U(p.FreeThreads), U(p.MaxJobs), p.Region, p.Enabled,
                    U((ulong)Math.Max(0, p.FirstSeen.ToUnixTimeMilliseconds())), U((ulong)Math.Max(0, p.LastSeen.ToUnixTimeMilliseconds())), p.RttMs, seq,
                    string.Join('\n', p.Networks), string.Join('\n', p.Groups));
            }
            // No key to check (see DropGrowingKeys): a canary's job id is fresh, recorded once (Canaries).
            AppendCanaries(connection, canaries, sequence);
            foreach (var e in events)
            {
                if (e.Verdict is null)
                {
                    connection.QueryWith("INSERT INTO drift VALUES ($1, $2, $3::UBIGINT, $4::UBIGINT)", e.JobId, (long)e.Drifted, U((ulong)Math.Max(0, e.TsMs)), seq);
                }
            }
            // No unique index (see DropGrowingKeys): the batch holds no receipt stored before (see _storedElsewhere).
            AppendReceipts(connection, batch, sequence);
            AppendJobRecords(connection, records);
            connection.Execute("COMMIT");
        }
        catch
        {
            // Requeued first, so nothing is lost whatever the rollback says (the failed session detaches the file anyway).
            lock (_pendingGate)
            {
                _pending.InsertRange(0, batch); // retried by the next flush
                _pendingRecords.InsertRange(0, records);
                _pendingEvents.InsertRange(0, events);
                foreach (var (nodeId, p) in perf)
                {
                    _pendingPerf.TryAdd(nodeId, p);
                }
                foreach (var (nodeId, p) in peers)
                {
                    _pendingPeers.TryAdd(nodeId, p);
                }
            }
            if (began)
            {
                try
                {
                    connection.Execute("ROLLBACK");
                }
                catch (DuckDBException)
                {
                    // The flush's own error is the one to report.
                }
            }
            throw;
        }
    }

    /// <summary>The canary outcomes among <paramref name="events"/>, the first per job id (a job is judged once; a later duplicate is ignored).</summary>
    private static List<VerificationEvent> Canaries(List<VerificationEvent> events)
    {
        var canaries = new List<VerificationEvent>();
        HashSet<string>? seen = null;
        foreach (var e in events)
        {
            if (e.Verdict is not null && (seen ??= new(StringComparer.Ordinal)).Add(e.JobId))
            {
                canaries.Add(e);
            }
        }
        return canaries;
    }

    /// <summary>The job ids of the seal's leaves, with their indexes: staged outside the file (see SealEpoch) and set by one join.</summary>
    private const string StagingSchema = "CREATE TABLE memory.main.staged_leaves (job_id VARCHAR, leaf_index UBIGINT)";

    /// <summary>
    /// Receipts (worker, replay fingerprint) the last merge found stored by another process while this one held them
    /// pending: the flush of the same session drops them. With the ledger holding every stored fingerprint, this keeps
    /// the receipts table free of duplicates without a unique index and without looking up the table per flush.
    /// </summary>
    private readonly HashSet<(string Worker, ulong Fingerprint)> _storedElsewhere = [];

    /// <summary>
    /// The file's own catalog: rows are appended straight into its tables inside the flush's transaction (an appender
    /// flushes into the connection's open transaction), with no SQL per row or per flush, and roll back with it.
    /// </summary>
    private const string StoreCatalog = "trust_store";

    private static readonly string[] s_receiptColumns = ["worker_id", "replay_fp", "job_id", "requester_id", "query_hash", "input_fingerprint", "result_hash",
        "verdict", "latency_ms", "ts", "observed_input_bytes", "observed_result_rows", "observed_result_bytes", "requester_pubkey", "signature", "seq"];

    private static readonly string[] s_canaryColumns = ["job_id", "node_id", "verdict", "ts_ms", "seq"];

    /// <summary>Appends the flush's receipts to the file's table in the flush's transaction, stamped with its sequence number.</summary>
    private static void AppendReceipts(DuckDBConnection connection, List<Receipt> receipts, ulong seq)
    {
        if (receipts.Count == 0)
        {
            return;
        }
        // Disposed inside the flush's try: rows an error left in the appender go into the transaction that then rolls back.
        using var appender = DuckDBAppender.Open(connection, StoreCatalog, "main", "receipts", s_receiptColumns);
        foreach (var r in receipts)
        {
            appender.Append(r.WorkerId).Append(r.ReplayFingerprint()).Append(r.JobId).Append(r.RequesterId).Append(r.QueryHash)
                .Append(r.InputFingerprint).Append(r.ResultHash).Append((byte)r.Verdict).Append(r.LatencyMs).Append(r.Timestamp)
                .Append(r.ObservedInputBytes).Append(r.ObservedResultRows).Append(r.ObservedResultBytes).Append(r.RequesterPublicKey).Append(r.Signature)
                .Append(seq).EndRow();
        }
        appender.Flush();
    }

    /// <summary>Appends the flush's canary outcomes to the file's table in the flush's transaction.</summary>
    private static void AppendCanaries(DuckDBConnection connection, List<VerificationEvent> canaries, ulong seq)
    {
        if (canaries.Count == 0)
        {
            return;
        }
        using var appender = DuckDBAppender.Open(connection, StoreCatalog, "main", "canaries", s_canaryColumns);
        foreach (var c in canaries)
        {
            appender.Append(c.JobId).Append(c.NodeId).Append((byte)c.Verdict!.Value).Append((ulong)Math.Max(0, c.TsMs)).Append(seq).EndRow();
        }
        appender.Flush();
    }

    /// <summary>Runs one write of <paramref name="body"/> (given the session's new sequence number) in its own transaction inside a session.</summary>
    private T Write<T>(Func<DuckDBConnection, string, T> body, bool block = false) => Session(connection => InTransaction(connection, body, block));

    /// <summary>Runs <paramref name="body"/> (given the session's new sequence number) in its own transaction, in a session already held.</summary>
    private T InTransaction<T>(DuckDBConnection connection, Func<DuckDBConnection, string, T> body, bool block = false)
    {
        connection.Execute("BEGIN TRANSACTION");
        try
        {
            var seq = U((ulong)NextSeq(connection, block));
            var result = body(connection, seq);
            connection.Execute("COMMIT");
            return result;
        }
        catch
        {
            connection.Execute("ROLLBACK");
            throw;
        }
    }

    /// <summary>
    /// How often performance samples and peer sightings (which change on every query and heartbeat) are committed: a
    /// commit is a write session (an fsync and a checkpoint), and every process sharing the store takes turns for them.
    /// </summary>
    public static readonly TimeSpan SlowWriteInterval = TimeSpan.FromSeconds(5);

    /// <summary>Longest a written-behind receipt waits for its commit (the SIGKILL exposure window).</summary>
    public static readonly TimeSpan WriteBehindWindow = TimeSpan.FromMilliseconds(100);

    private int _wakeRequested;

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _wake.Release();
        }
    }

    private async Task WriteBehindAsync()
    {
        while (!_stopWriter.IsCancellationRequested)
        {
            try
            {
                if (await _wake.WaitAsync(MergeInterval, _stopWriter.Token).ConfigureAwait(false))
                {
                    // Gather what a busy node produces meanwhile: one commit per window instead of one per query.
                    await Task.Delay(WriteBehindWindow, _stopWriter.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Volatile.Write(ref _wakeRequested, 0);
            // Open the file only for due work or when another process published a change (one memory read to find out).
            if (!HasDueWork() && _published.Seq == Volatile.Read(ref _mergedSeq) && _published.BlockSeq == Volatile.Read(ref _blockSeqSeen))
            {
                continue;
            }
            try
            {
                Session(_ => 0); // what is due: receipts now, samples and sightings on their slower cadence
            }
            catch (Exception e) when (e is DuckDBException or ObjectDisposedException or IOException or TimeoutException)
            {
                // The next receipt, merge interval (or Dispose) retries; the in-memory ledger already counts them.
                try
                {
                    await Task.Delay(100, _stopWriter.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                Wake();
            }
        }
    }

    private bool HasDueWork()
    {
        lock (_pendingGate)
        {
            return _pending.Count > 0 || _pendingRecords.Count > 0 || _pendingEvents.Count > 0 || ((_pendingPerf.Count > 0 || _pendingPeers.Count > 0) && _time.GetElapsedTime(_perfFlushed) >= SlowWriteInterval);
        }
    }

    private static string U(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Stored receipts, newest first; all workers when <paramref name="workerId"/> is null.</summary>
    public IReadOnlyList<Receipt> Receipts(string? workerId = null, int limit = 1000)
    {
        var rows = Session(connection => connection.QueryWith(
            "SELECT job_id, worker_id, requester_id, query_hash, input_fingerprint, result_hash, verdict::BIGINT, latency_ms::BIGINT, ts::BIGINT, " +
            "observed_input_bytes::BIGINT, observed_result_rows::BIGINT, observed_result_bytes::BIGINT, requester_pubkey, signature " +
            "FROM receipts WHERE $1 IS NULL OR worker_id = $1 ORDER BY ts DESC, job_id LIMIT $2", workerId, (long)limit));
        var list = new List<Receipt>();
        ForEachRow(rows, (b, r) => list.Add(new Receipt
        {
            JobId = Text(b, 0, r),
            WorkerId = Text(b, 1, r),
            RequesterId = Text(b, 2, r),
            QueryHash = Text(b, 3, r),
            InputFingerprint = Text(b, 4, r),
            ResultHash = Text(b, 5, r),
            Verdict = (Verdict)Long(b, 6, r),
            LatencyMs = (ulong)Long(b, 7, r),
            Timestamp = (ulong)Long(b, 8, r),
            ObservedInputBytes = (ulong)Long(b, 9, r),
            ObservedResultRows = (ulong)Long(b, 10, r),
            ObservedResultBytes = (ulong)Long(b, 11, r),
            RequesterPublicKey = b.Columns[12].GetBytes(r).ToArray(),
            Signature = b.Columns[13].GetBytes(r).ToArray(),
        }));
        return list;
    }

    /// <summary>
    /// The reputation-bearing outcomes of a worker's receipts (Correct vs provider faults); only those issued by
    /// <paramref name="requesterId"/> when given (a node's reputation view counts its own receipts).
    /// </summary>
    public IReadOnlyList<Observation> Observations(string workerId, string? requesterId = null)
    {
        var ledger = LedgerOf(workerId);
        var list = new List<Observation>();
        lock (ledger)
        {
            foreach (var (ts, verdict, requester) in ledger.Outcomes)
            {
                if (verdict is Verdict.Correct or Verdict.Incorrect or Verdict.Timeout or Verdict.Malformed && (requesterId is null || requester == requesterId))
                {
                    list.Add(new Observation(DateTimeOffset.FromUnixTimeSeconds(ts), verdict == Verdict.Correct));
                }
            }
        }
        return list;
    }

    public void AddPenalty(string workerId, double amount, string reason)
    {
        Write((connection, seq) =>
        {
            connection.QueryWith("INSERT INTO penalties VALUES ($1, $2, $3, $4::UBIGINT, $5::UBIGINT)", workerId, amount, reason, U(Now), seq);
            // Recomputed from the file: it also holds what other processes added.
            var sum = ReadDouble(connection.QueryWith("SELECT coalesce(sum(amount), 0)::DOUBLE FROM penalties WHERE worker_id = $1", workerId));
            var ledger = LedgerOf(workerId);
            lock (ledger)
            {
                ledger.Penalties = sum;
            }
            return 0;
        });
        Bump(workerId);
    }

    public double Penalties(string workerId)
    {
        var ledger = LedgerOf(workerId);
        lock (ledger)
        {
            return ledger.Penalties;
        }
    }

    /// <summary>Records (or replaces) an unsigned local vouch of <paramref name="voucherId"/> for <paramref name="workerId"/> (not gossiped).</summary>
    public void AddVouch(string voucherId, string workerId, double weight)
    {
        Write((connection, seq) =>
        {
            var now = _time.GetUtcNow();
            connection.QueryWith(
                "INSERT OR REPLACE INTO vouches (voucher_id, worker_id, weight, ts, ts_ms, received_at, seq) VALUES ($1, $2, $3, $4::UBIGINT, $5::UBIGINT, $5::UBIGINT, $6::UBIGINT)",
                voucherId, workerId, Math.Clamp(weight, 0, 1), U(Now), U((ulong)now.ToUnixTimeMilliseconds()), seq);
            ReloadVouchesLocked(connection, workerId);
            return 0;
        });
        Bump(workerId);
    }

    /// <summary>
    /// Verifies and stores a signed vouch. Returns false when this store already holds a vouch of the same voucher
    /// for the same vouchee that is as new or newer (a replay or a stale copy); throws <see cref="ArgumentException"/>
    /// for a forged, tampered, self- or malformed vouch. The newest vouch replaces older ones (weight 0 withdraws).
    /// </summary>
    public bool AddVouch(Vouch vouch)
    {
        ArgumentNullException.ThrowIfNull(vouch);
        if (vouch.Problem() is { } problem)
        {
            throw new ArgumentException($"vouch rejected: {problem}", nameof(vouch));
        }
        var added = Write((connection, seq) =>
        {
            var existing = connection.QueryWith("SELECT coalesce(ts_ms, 0)::BIGINT FROM vouches WHERE voucher_id = $1 AND worker_id = $2", vouch.VoucherId, vouch.VoucheeId);
            if (existing.RowCount > 0 && (ulong)ReadLong(existing, 0, 0) >= vouch.TimestampMs)
            {
                return false;
            }
            connection.QueryWith(
                "INSERT OR REPLACE INTO vouches (voucher_id, worker_id, weight, ts, ts_ms, voucher_pubkey, signature, received_at, seq) " +
                "VALUES ($1, $2, $3, $4::UBIGINT, $5::UBIGINT, $6, $7, $8::UBIGINT, $9::UBIGINT)",
                vouch.VoucherId, vouch.VoucheeId, vouch.Weight, U(vouch.TimestampMs / 1000), U(vouch.TimestampMs), vouch.VoucherPublicKey, vouch.Signature,
                U((ulong)_time.GetUtcNow().ToUnixTimeMilliseconds()), seq);
            ReloadVouchesLocked(connection, vouch.VoucheeId);
            ReloadRecentSignedLocked(connection);
            return true;
        });
        if (added)
        {
            Bump(vouch.VoucheeId);
        }
        return added;
    }

    /// <summary>One stored vouch; <see cref="Signed"/> is null for an unsigned local one.</summary>
    public sealed record VouchEntry(string VoucherId, string VoucheeId, double Weight, DateTimeOffset Timestamp, Vouch? Signed);

    /// <summary>Stored vouches (about <paramref name="voucheeId"/> when given), most recently received first.</summary>
    public IReadOnlyList<VouchEntry> Vouches(string? voucheeId = null, int limit = 1000)
    {
        var rows = Session(connection => connection.QueryWith(
            "SELECT voucher_id, worker_id, weight, coalesce(ts_ms, ts * 1000)::BIGINT, voucher_pubkey, signature FROM vouches " +
            "WHERE $1 IS NULL OR worker_id = $1 ORDER BY coalesce(received_at, ts * 1000) DESC, voucher_id, worker_id LIMIT $2", voucheeId, (long)limit));
        var list = new List<VouchEntry>();
        ForEachRow(rows, (b, r) =>
        {
            var voucher = Text(b, 0, r);
            var vouchee = Text(b, 1, r);
            var weight = BitConverter.ToDouble(b.Columns[2].GetFixed(r));
            var tsMs = Long(b, 3, r);
            Vouch? signed = null;
            if (b.Columns[4].IsValid(r) && b.Columns[5].IsValid(r))
            {
                signed = new Vouch
                {
                    VoucherId = voucher,
                    VoucheeId = vouchee,
                    WeightPpm = Vouch.ToPpm(Math.Clamp(weight, 0, 1)),
                    TimestampMs = (ulong)tsMs,
                    VoucherPublicKey = b.Columns[4].GetBytes(r).ToArray(),
                    Signature = b.Columns[5].GetBytes(r).ToArray(),
                };
            }
            list.Add(new VouchEntry(voucher, vouchee, weight, DateTimeOffset.FromUnixTimeMilliseconds(tsMs), signed));
        });
        return list;
    }

    /// <summary>How many vouches this store holds (withdrawn ones, weight 0, included).</summary>
    public long VouchCount() => Session(connection => ReadLong(connection.QueryWith("SELECT count(*) FROM vouches"), 0, 0));

    /// <summary>Unweighted: the sum of the vouch weights for <paramref name="workerId"/>, capped at 1 (each voucher counted as fully trusted).</summary>
    public double VoucherTrust(string workerId) => Math.Min(1, VouchesAbout(workerId).Sum(v => v.Weight));

    /// <summary>Who vouched positively for <paramref name="workerId"/> (in memory, kept current by writes and merges).</summary>
    public IReadOnlyList<string> VouchersOf(string workerId) => VouchesAbout(workerId).Select(v => v.Voucher).ToList();

    /// <summary>The positive vouches about <paramref name="workerId"/> from others (in memory, kept current by writes and merges).</summary>
    private List<(string Voucher, double Weight)> VouchesAbout(string workerId)
    {
        var ledger = LedgerOf(workerId);
        lock (ledger)
        {
            return ledger.Vouches;
        }
    }

    /// <summary>
    /// The voucher term of <paramref name="workerId"/> (see <see cref="Duckton.Core.Trust.VoucherTrust"/>): each vouch
    /// weighted by <c>policy.VouchWeight</c> and by the voucher's own effective trust — computed without its voucher
    /// term (so vouch cycles cannot lift each other), 1 for <paramref name="requesterId"/> itself, and 0 for a voucher
    /// that <paramref name="requesterId"/> never observed.
    /// </summary>
    public double VoucherTrust(string workerId, TrustPolicy policy, ReputationParameters parameters, string? requesterId)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var vouches = VouchesAbout(workerId);
        if (vouches.Count == 0)
        {
            return 0;
        }
        return Duckton.Core.Trust.VoucherTrust.Compute(vouches.Select(v => (v.Weight, VoucherOwnTrust(v.Voucher, policy, parameters, requesterId))), policy.VouchWeight);
    }

    private double VoucherOwnTrust(string voucherId, TrustPolicy policy, ReputationParameters parameters, string? requesterId)
    {
        if (requesterId is not null && voucherId == requesterId)
        {
            return 1;
        }
        if (IsBlocked(voucherId))
        {
            return 0;
        }
        var (reputation, count) = ReputationOf(voucherId, requesterId, parameters);
        if (count == 0)
        {
            return 0;
        }
        return EffectiveTrust.Compute(new TrustInputs
        {
            Reputation = reputation,
            Observations = count,
            Voucher = 0,
            Penalties = Penalties(voucherId),
        }, policy with { ExplorationRate = 0 }).Effective;
    }

    // ---------------------------------------------------------------- vetting and measured performance

    /// <summary>Records the latest canary vetting outcome of <paramref name="nodeId"/>.</summary>
    public void SetVetting(string nodeId, bool passed, DateTimeOffset at) => Write((connection, seq) =>
        connection.QueryWith("INSERT OR REPLACE INTO vetting VALUES ($1, $2, $3::UBIGINT, $4::UBIGINT)", nodeId, passed, U((ulong)Math.Max(0, at.ToUnixTimeMilliseconds())), seq));

    /// <summary>Records (or with a null <paramref name="reason"/> removes) the flag of a host caught hiding receipts about itself.</summary>
    public void SetFlag(string nodeId, string? reason) => Write((connection, seq) => reason is null
        ? connection.QueryWith("DELETE FROM flags WHERE node_id = $1", nodeId)
        : connection.QueryWith("INSERT OR REPLACE INTO flags VALUES ($1, $2, $3::UBIGINT, $4::UBIGINT)", nodeId, reason,
            U((ulong)Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds())), seq));

    /// <summary>Every stored flag: node id → reason.</summary>
    public IReadOnlyDictionary<string, string> Flags()
    {
        var rows = Session(connection => connection.QueryWith("SELECT node_id, reason FROM flags"));
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        ForEachRow(rows, (b, r) => map[Text(b, 0, r)] = Text(b, 1, r));
        return map;
    }

    /// <summary>
    /// Stores objective evidence against <paramref name="entry"/>'s host (idempotent per host and job). Written at once,
    /// not behind: a host with evidence must stay excluded even if this process is killed the next moment.
    /// </summary>
    public void AddEvidence(EvidenceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        Write((connection, seq) => connection.QueryWith("INSERT OR IGNORE INTO evidence VALUES ($1, $2, $3, $4, $5, $6::UBIGINT, $7::UBIGINT)",
            entry.NodeId, entry.Kind, entry.JobId, entry.Detail, entry.Proof, U((ulong)Math.Max(0, entry.At.ToUnixTimeMilliseconds())), seq));
    }

    /// <summary>Every stored piece of evidence, oldest first.</summary>
    public IReadOnlyList<EvidenceEntry> Evidence()
    {
        var rows = Session(connection => connection.QueryWith("SELECT node_id, kind, job_id, detail, proof, ts_ms::BIGINT FROM evidence ORDER BY ts_ms, node_id, job_id"));
        var list = new List<EvidenceEntry>();
        ForEachRow(rows, (b, r) => list.Add(new EvidenceEntry(Text(b, 0, r), Text(b, 1, r), Text(b, 2, r), Text(b, 3, r), b.Columns[4].GetBytes(r).ToArray(),
            DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 5, r)))));
        return list;
    }

    /// <summary>Every stored vetting outcome: node id → (passed, when).</summary>
    public IReadOnlyDictionary<string, (bool Passed, DateTimeOffset At)> Vetting()
    {
        var rows = Session(connection => connection.QueryWith("SELECT node_id, passed::BIGINT, ts_ms::BIGINT FROM vetting"));
        var map = new Dictionary<string, (bool, DateTimeOffset)>(StringComparer.Ordinal);
        ForEachRow(rows, (b, r) => map[Text(b, 0, r)] = (Long(b, 1, r) != 0, DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 2, r))));
        return map;
    }

    /// <summary>Requester-measured performance of one host: EWMAs of commit latency and fetched bytes, with their sample counts.</summary>
    public readonly record struct PerfSample(double LatencyMs, double Bytes, long Samples, long ByteSamples, DateTimeOffset At);

    /// <summary>Upserts the measured performance of <paramref name="nodeId"/>.</summary>
    /// <remarks>Written behind with the receipts (the latest sample per host wins): this runs on the query path.</remarks>
    public void SetPerf(string nodeId, PerfSample perf)
    {
        lock (_pendingGate)
        {
            _pendingPerf[nodeId] = perf;
        }
        Wake();
    }

    private Dictionary<string, PerfSample> _pendingPerf = new(StringComparer.Ordinal);

    /// <summary>Every stored performance record.</summary>
    public IReadOnlyDictionary<string, PerfSample> Perf()
    {
        var rows = Session(connection => connection.QueryWith("SELECT node_id, latency_ms, bytes, samples, byte_samples, ts_ms::BIGINT FROM perf"), forcePerf: true);
        var map = new Dictionary<string, PerfSample>(StringComparer.Ordinal);
        ForEachRow(rows, (b, r) => map[Text(b, 0, r)] = new PerfSample(BitConverter.ToDouble(b.Columns[1].GetFixed(r)), BitConverter.ToDouble(b.Columns[2].GetFixed(r)),
            Long(b, 3, r), Long(b, 4, r), DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 5, r))));
        return map;
    }

    // ---------------------------------------------------------------- peers seen

    /// <summary>
    /// Remembers a sighting of a host (from its verified advert or a direct contact). Written behind, at most once a
    /// second: this runs on every gossip exchange. The latest sighting per host wins; its first sighting is kept.
    /// </summary>
    public void NotePeer(KnownPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_pendingGate)
        {
            _pendingPeers[peer.NodeId] = _pendingPeers.TryGetValue(peer.NodeId, out var earlier) && earlier.FirstSeen < peer.FirstSeen
                ? peer with { FirstSeen = earlier.FirstSeen }
                : peer;
        }
        Wake();
    }

    /// <summary>Every host this store has seen (from any process sharing it), most recently seen first.</summary>
    public IReadOnlyList<KnownPeer> KnownPeers()
    {
        var rows = Session(connection => connection.QueryWith(
            "SELECT node_id, addr, attestation::BIGINT, free_memory_bytes::BIGINT, free_threads::BIGINT, max_jobs::BIGINT, region, enabled::BIGINT, " +
            "first_seen_ms::BIGINT, last_seen_ms::BIGINT, rtt_ms, networks, groups FROM peers ORDER BY last_seen_ms DESC, node_id"), forcePerf: true);
        var list = new List<KnownPeer>();
        static string[] Split(string joined) => joined.Length == 0 ? [] : joined.Split('\n');
        ForEachRow(rows, (b, r) => list.Add(new KnownPeer(Text(b, 0, r), Text(b, 1, r), (byte)Long(b, 2, r), (ulong)Long(b, 3, r), (uint)Long(b, 4, r), (uint)Long(b, 5, r),
            Text(b, 6, r), Long(b, 7, r) != 0, DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 8, r)), DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 9, r)),
            b.Columns[10].IsValid(r) ? BitConverter.ToDouble(b.Columns[10].GetFixed(r)) : null)
        {
            Networks = Split(Text(b, 11, r)),
            Groups = Split(Text(b, 12, r)),
        }));
        return list;
    }

    /// <summary>How many receipts this store holds (about any worker, from every process sharing it).</summary>
    public long ReceiptCount() => Session(connection => ReadLong(connection.QueryWith("SELECT count(*) FROM receipts"), 0, 0));

    // ---------------------------------------------------------------- canaries and drift partitions

    /// <summary>A canary's outcome (<see cref="Verdict"/> set) or a query's drift partition (<see cref="Drifted"/> commits), written behind with receipts.</summary>
    private sealed record VerificationEvent(string JobId, string? NodeId, Verdict? Verdict, int Drifted, long TsMs);

    /// <summary>
    /// Records one canary probe that was judged (<paramref name="verdict"/>: Correct passed, anything else failed). Each
    /// probe has a fresh job id and is recorded once; a repeat within one flush is dropped, a repeat in a later flush is
    /// not looked for (the table has no index to look it up in; see DropGrowingKeys).
    /// </summary>
    public void RecordCanary(string jobId, string nodeId, Verdict verdict)
    {
        lock (_pendingGate)
        {
            _pendingEvents.Add(new VerificationEvent(jobId, nodeId, verdict, 0, _time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        Wake();
    }

    /// <summary>Records that <paramref name="drifted"/> commits of job <paramref name="jobId"/> were left out of its quorum for other input (nothing for 0).</summary>
    public void RecordDrift(string jobId, int drifted)
    {
        if (drifted <= 0)
        {
            return;
        }
        lock (_pendingGate)
        {
            _pendingEvents.Add(new VerificationEvent(jobId, null, null, drifted, _time.GetUtcNow().ToUnixTimeMilliseconds()));
        }
        Wake();
    }

    /// <summary>Canaries and drift partitions as stored (this process's pending ones included), and the drift of one job.</summary>
    public readonly record struct VerificationCounts(long CanariesRun, long CanariesFailed, long DriftedCommits, long DriftedQueries, long DriftedOfJob);

    /// <summary>
    /// What <c>p2p_status()</c> and the dashboard show about canaries and drift, in one read:
    /// <paramref name="jobId"/> (optional) also gives that job's drifted commits.
    /// </summary>
    public VerificationCounts Verification(string? jobId = null)
    {
        var rows = Session(connection => connection.QueryWith(
            "SELECT (SELECT count(*) FROM canaries), (SELECT count(*) FROM canaries WHERE verdict <> $1::UTINYINT), " +
            "(SELECT coalesce(sum(drifted), 0) FROM drift)::BIGINT, (SELECT count(DISTINCT job_id) FROM drift), " +
            "(SELECT coalesce(sum(drifted), 0) FROM drift WHERE job_id = $2)::BIGINT", (long)Verdict.Correct, jobId));
        return new VerificationCounts(ReadLong(rows, 0, 0), ReadLong(rows, 1, 0), ReadLong(rows, 2, 0), ReadLong(rows, 3, 0), ReadLong(rows, 4, 0));
    }

    /// <summary>Blocks (or re-blocks with a new reason) a node id or wallet. Every process sharing the store honours it from its next query.</summary>
    public void Block(string id, BlockKind kind, string reason, string source = "manual")
    {
        Write((connection, seq) => connection.QueryWith("INSERT OR REPLACE INTO blocklist VALUES ($1, $2, $3, $4, $5::UBIGINT)", id, KindText(kind), reason, source, U(Now)),
            block: true);
    }

    /// <summary>Removes an entry; false when it was not blocked.</summary>
    public bool Unblock(string id)
    {
        return Write((connection, seq) => connection.QueryWith("DELETE FROM blocklist WHERE id = $1 RETURNING id", id).RowCount > 0, block: true);
    }

    private void ReloadBlockedLocked(DuckDBConnection connection)
    {
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        ForEachRow(connection.QueryWith("SELECT id FROM blocklist"), (b, r) => blocked.Add(Text(b, 0, r)));
        _blocked = blocked;
        Volatile.Write(ref _blockSeqSeen, ReadSeqs(connection).BlockSeq);
    }

    /// <summary>
    /// True when <paramref name="id"/> is on the deny-list. An in-memory copy; when another process has changed the
    /// deny-list since (one read of the shared sequence file, no file opened) it is reloaded before answering, and a
    /// failure to reload throws rather than answer from a stale list.
    /// </summary>
    public bool IsBlocked(string id)
    {
        var blocked = _blocked;
        if (blocked is null || _published.BlockSeq != Volatile.Read(ref _blockSeqSeen))
        {
            Session(_ => 0); // merges, which reloads the deny-list when its sequence number moved
            blocked = _blocked!;
        }
        return blocked.Contains(id);
    }

    public IReadOnlyList<BlockEntry> Blocklist()
    {
        var rows = Session(connection => connection.QueryWith("SELECT id, kind, reason, source, ts::BIGINT FROM blocklist ORDER BY ts, id"));
        var list = new List<BlockEntry>();
        ForEachRow(rows, (b, r) => list.Add(new BlockEntry(Text(b, 0, r), Text(b, 1, r) == "wallet" ? BlockKind.Wallet : BlockKind.NodeId,
            Text(b, 2, r), Text(b, 3, r), DateTimeOffset.FromUnixTimeSeconds(Long(b, 4, r)))));
        return list;
    }

    /// <summary>Replay fingerprints of every stored receipt about <paramref name="workerId"/>, ascending.</summary>
    public IReadOnlyList<ulong> ReplayFingerprints(string workerId)
    {
        var ledger = LedgerOf(workerId);
        lock (ledger)
        {
            return [.. ledger.Replays.Order()];
        }
    }

    /// <summary>Every worker this node holds receipts for.</summary>
    public IReadOnlyList<string> Workers()
    {
        var rows = Session(connection => connection.QueryWith("SELECT DISTINCT worker_id FROM receipts ORDER BY 1"));
        var list = new List<string>();
        ForEachRow(rows, (b, r) => list.Add(Text(b, 0, r)));
        return list;
    }

    /// <summary>Effective trust of a worker from its stored history (docs/TRUST.md).</summary>
    public TrustBreakdown Evaluate(string workerId, TrustPolicy policy, ReputationParameters parameters, double stake = 0, Duckton.Core.Configuration.AttestationLevel attestation = default,
        string? requesterId = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var (reputation, count) = ReputationOf(workerId, requesterId, parameters);
        return EffectiveTrust.Compute(new TrustInputs
        {
            Reputation = reputation,
            Observations = count,
            Voucher = VoucherTrust(workerId, policy, parameters, requesterId),
            Stake = stake,
            Penalties = Penalties(workerId),
            Attestation = attestation,
        }, policy);
    }

    /// <summary>How many reputation-bearing observations of <paramref name="workerId"/> exist (issued by <paramref name="requesterId"/> when given).</summary>
    public int ObservationCount(string workerId, string? requesterId = null) => ReputationOf(workerId, requesterId, ReputationParameters.Default).Count;

    /// <summary>
    /// R (Wilson-shrunk recency-weighted correctness, docs/TRUST.md) from running sums kept in the worker's ledger, so an
    /// evaluation costs the receipts added since the last one rather than the whole history:
    /// Σ wᵢ·cᵢ and Σ wᵢ with wᵢ = 0.5^(ageᵢ/h) are multiplied by 0.5^(Δt/h) as time advances (exactly what every
    /// weight does), and each new observation is added with its weight at that moment. Equal to
    /// <see cref="Reputation.Compute"/> up to rounding, except that a receipt stamped in the future (clock skew)
    /// starts decaying from when it was counted.
    /// </summary>
    private (double? Reputation, int Count) ReputationOf(string workerId, string? requesterId, ReputationParameters parameters)
    {
        var ledger = LedgerOf(workerId);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var h = parameters.HalfLife.TotalSeconds;
        lock (ledger)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"{h}|{requesterId}");
            if (!ledger.Sums.TryGetValue(key, out var sums) || now < sums.At)
            {
                sums = new RunningSums { HalfLife = h, At = now };
                ledger.Sums[key] = sums;
            }
            if (h > 0 && now > sums.At)
            {
                var decay = Math.Pow(0.5, (now - sums.At) / h);
                sums.Weight *= decay;
                sums.Correct *= decay;
            }
            sums.At = now;
            for (; sums.Consumed < ledger.Outcomes.Count; sums.Consumed++)
            {
                var (ts, verdict, requester) = ledger.Outcomes[sums.Consumed];
                if (verdict is not (Verdict.Correct or Verdict.Incorrect or Verdict.Timeout or Verdict.Malformed) || (requesterId is not null && requester != requesterId))
                {
                    continue;
                }
                var w = h > 0 ? Math.Pow(0.5, Math.Max(0, now - ts) / h) : 1.0;
                sums.Weight += w;
                if (verdict == Verdict.Correct)
                {
                    sums.Correct += w;
                }
                sums.Count++;
            }
            double? r = sums.Count == 0 || sums.Weight <= 0 ? null : Reputation.WilsonLowerBound(sums.Correct / sums.Weight, sums.Count, parameters);
            return (r, sums.Count);
        }
    }

    private sealed class RunningSums
    {
        public double HalfLife;
        public double At;
        public double Weight;
        public double Correct;
        public int Count;
        public int Consumed;
    }

    private static string KindText(BlockKind kind) => kind == BlockKind.Wallet ? "wallet" : "node_id";

    private static void ForEachRow(ResultSet rows, Action<ResultBatch, int> action)
    {
        foreach (var b in rows.Batches)
        {
            for (var r = 0; r < b.RowCount; r++)
            {
                action(b, r);
            }
        }
    }

    private static string Text(ResultBatch b, int c, int r) => b.Columns[c].IsValid(r) ? Encoding.UTF8.GetString(b.Columns[c].GetBytes(r)) : "";
    private static long Long(ResultBatch b, int c, int r) => b.Columns[c].IsValid(r) ? BitConverter.ToInt64(b.Columns[c].GetFixed(r)) : 0;
    private static long ReadLong(ResultSet rows, int c, int r) => rows.RowCount == 0 ? 0 : Long(rows.Batches[0], c, r);
    private static double ReadDouble(ResultSet rows) => rows.RowCount == 0 ? 0 : BitConverter.ToDouble(rows.Batches[0].Columns[0].GetFixed(0));

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
        }
        lock (_pendingGate)
        {
            _recordsClosed = true; // from here a job record is refused rather than queued after the last flush below
        }
        _stopWriter.Cancel();
        try
        {
            _writer.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        try
        {
            _disposing = true; // the last session closes the file
            Session(_ => 0, forcePerf: true);
        }
        finally
        {
            lock (_gate)
            {
                try
                {
                    DetachLocked(_connection); // when the last session failed before it could
                }
                catch (DuckDBException)
                {
                }
                _disposed = true;
            }
            StopWatching(); // outside the gate: the watcher may be waiting to enter it
            lock (_gate)
            {
                _wake.Dispose();
                _stopWriter.Dispose();
                _published.Dispose();
                _connection.Dispose();
                _instance.Dispose();
            }
        }
    }
}

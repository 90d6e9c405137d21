using System.Diagnostics;
using Duckton.Core.Crypto;
using Duckton.Core.Trust;
using Duckton.DuckDB.Native;
using Duckton.Node.Trust;
using Xunit.Abstractions;

namespace Duckton.Node.Tests;

/// <summary>
/// The job record a verified remote query leaves is written behind with the receipts: queuing it does not touch the
/// store file, the background writer commits it within the write-behind window, and a clean dispose commits whatever
/// is still queued.
/// </summary>
public sealed class JobRecordWriteBehindTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-job-records-").FullName;

    private readonly ITestOutputHelper _output;

    public JobRecordWriteBehindTests(ITestOutputHelper output)
    {
        _output = output;
        DuckDBNative.InitializeFromLibrary();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static byte[] Cert(int i) => Duckton.Core.Hashing.Blake3.Hash(BitConverter.GetBytes(i));

    private static void Add(TrustStore store, int i, DateTimeOffset at) =>
        store.AddJobRecord($"job-{i:D4}", "q" + new string('a', 63), $"hash-{i}", Cert(i), "requester-1", $"winner-{i % 3}", at);

    /// <summary>
    /// Holds the store's OS lock, as another process in the middle of a long session would (taking it as such a process
    /// does: saying it waits, so a store keeping the file open between its sessions lets go).
    /// </summary>
    private FileLock HoldStoreLock()
    {
        using var published = new SharedSequence(Path.Combine(_dir, "trust", "trust.seq"));
        return FileLock.Acquire(Path.Combine(_dir, "trust", "trust.lock"), TimeSpan.FromSeconds(30), published.Want);
    }

    [Fact]
    public async Task Queuing_a_job_record_does_not_wait_on_the_store_and_a_clean_dispose_loses_none()
    {
        var at = DateTimeOffset.UtcNow;
        var store = TrustStore.Open(_dir);
        try
        {
            // While the file is locked by "another process", a synchronous write would wait for the lock (up to
            // TrustStore.LockTimeout, 60 s). Queuing must not: 300 records from three threads return at once.
            using (HoldStoreLock())
            {
                var queued = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, 3).Select(t => Task.Run(() =>
                {
                    for (var i = t; i < 300; i += 3)
                    {
                        Add(store, i, at);
                    }
                })));
                Assert.True(queued.Elapsed < TimeSpan.FromSeconds(5), $"queuing took {queued.Elapsed}");
                await Task.Delay(TrustStore.WriteBehindWindow * 3); // the writer is due, but cannot take the lock
                Assert.Equal(300, store.PendingJobRecords);
            }

            // Lock released: the background writer commits them with no read or flush asked for.
            var waited = Stopwatch.StartNew();
            while (store.PendingJobRecords > 0 && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(10);
            }
            Assert.Equal(0, store.PendingJobRecords);

            // Queued just before a clean dispose (inside the write-behind window): Dispose commits them. A repeat of a
            // job id is idempotent, as before.
            for (var i = 300; i < 350; i++)
            {
                Add(store, i, at);
            }
            Add(store, 7, at);   // committed before: skipped
            Add(store, 349, at); // queued twice in one window: stored once
            Assert.InRange(store.PendingJobRecords, 1, 52);
        }
        finally
        {
            store.Dispose();
        }
        Assert.Throws<ObjectDisposedException>(() => Add(store, 999, at)); // refused, not queued after the last flush

        using var reopened = TrustStore.Open(_dir);
        for (var i = 0; i < 350; i++)
        {
            var r = reopened.JobRecordOf($"job-{i:D4}");
            Assert.NotNull(r);
            Assert.Equal(($"hash-{i}", $"winner-{i % 3}", "requester-1"), (r.ResultHash, r.Winner, r.Requester));
            Assert.Equal(Cert(i), r.CertificateHash);
            Assert.Equal(at.ToUnixTimeMilliseconds(), r.At.ToUnixTimeMilliseconds());
            Assert.Null(r.Epoch);
        }
        Assert.Null(reopened.JobRecordOf("job-0999"));

        // Sealing commits what is still queued first: a record queued a moment ago is in the epoch, and every job id
        // is one leaf (no duplicate rows from the repeats above).
        Add(reopened, 350, at);
        var sealedEpoch = reopened.SealEpoch(at.AddSeconds(1));
        Assert.NotNull(sealedEpoch);
        Assert.Equal(351, sealedEpoch.LeafCount);
        Assert.Equal(sealedEpoch.Epoch, reopened.JobRecordOf("job-0350")!.Epoch);
    }

    [Fact]
    public void Sealing_a_busy_epoch_takes_time_in_proportion_to_its_records_and_every_record_proves_against_the_root()
    {
        // A busy requester verifies hundreds of queries a second: an epoch (60 s by default) holds tens of thousands of
        // records, sealed in one write session that holds the store. Sealing used to update one record per statement, each
        // scanning the table: 20,000 records took minutes of CPU. Records of an earlier epoch stay in the table too.
        var at = DateTimeOffset.UtcNow.AddMinutes(-5);
        using var store = TrustStore.Open(_dir);
        for (var i = 0; i < 5_000; i++)
        {
            Add(store, 100_000 + i, at);
        }
        var first = store.SealEpoch(at.AddSeconds(1));
        Assert.Equal(5_000, first!.LeafCount);
        // Job ids in no particular order (the leaf order is by job id, not by arrival).
        const int n = 20_000;
        foreach (var i in Enumerable.Range(0, n).OrderBy(i => (i * 7919) % n))
        {
            Add(store, i, at.AddSeconds(2));
        }
        store.Flush();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var took = Stopwatch.StartNew();
        var sealedEpoch = store.SealEpoch(at.AddSeconds(3));
        took.Stop();
        var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        Assert.NotNull(sealedEpoch);
        Assert.Equal((first.Epoch + 1, (long)n), (sealedEpoch.Epoch, sealedEpoch.LeafCount));
        _output.WriteLine($"sealing {n} records took {took.Elapsed.TotalMilliseconds:F0} ms ({cpuMs:F0} ms CPU)");
        Assert.True(took.Elapsed < TimeSpan.FromSeconds(5), $"sealing {n} records took {took.Elapsed.TotalMilliseconds:F0} ms ({cpuMs:F0} ms CPU)");

        // Every record sits at its leaf: ProofOf reads the whole epoch back in leaf order and checks it folds to the
        // sealed root, and each proof folds its own leaf to that root.
        var order = Enumerable.Range(0, n).Select(i => $"job-{i:D4}").Order(StringComparer.Ordinal).ToList();
        foreach (var i in new[] { 0, 1, 9_999, 10_000, n - 1, 4_242 })
        {
            var proof = store.ProofOf($"job-{i:D4}");
            Assert.NotNull(proof);
            Assert.Equal(sealedEpoch.Root, proof.Root);
            Assert.Equal(order.IndexOf($"job-{i:D4}"), proof.Index); // ordinal order of the job ids ("job-1000" < "job-10000" < "job-1001")
            Assert.Equal(proof.Root, Duckton.Core.Records.RecordTree.Fold(proof.Record.Leaf(), proof.Path));
        }
        Assert.Equal(first.Epoch, store.JobRecordOf("job-100000")!.Epoch);
        Assert.Null(store.SealEpoch(at.AddSeconds(3))); // nothing left to seal
    }

    [Fact]
    public void A_flush_costs_the_same_with_300k_records_stored_and_a_record_stored_by_another_handle_is_still_skipped()
    {
        // A requester stores a job record per verified query and flushes every 100 ms. Skipping a job id already stored
        // used to scan every record ever stored on each flush: 2.3 ms with 1,000 records, 26 ms with 300,000.
        var at = DateTimeOffset.UtcNow;
        var cert = Cert(0);
        var id = 0;
        using (var store = TrustStore.Open(_dir))
        {
            double BestFlushMs()
            {
                var best = double.MaxValue;
                for (var f = 0; f < 30; f++)
                {
                    for (var k = 0; k < 20; k++)
                    {
                        store.AddJobRecord(Guid.NewGuid().ToString("N"), "q", "h", cert, "r", "w", at);
                    }
                    var sw = Stopwatch.StartNew();
                    store.Flush();
                    best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                }
                return best;
            }
            var small = BestFlushMs();
            for (; id < 300_000; id++)
            {
                store.AddJobRecord(Guid.NewGuid().ToString("N"), "q", "h", cert, "r", "w", at);
                if (id % 10_000 == 9_999)
                {
                    store.Flush();
                }
            }
            var large = BestFlushMs();
            _output.WriteLine($"best flush of 20 records: {small:F2} ms with ~600 stored, {large:F2} ms with 300,000");
            Assert.True(large < 4 * small, $"best flush of 20 records: {small:F2} ms with ~600 stored, {large:F2} ms with 300,000");
        }

        // Two handles take turns with the file as two processes would; each must skip what the other stored.
        var shared = Path.Combine(_dir, "shared");
        using (var a = TrustStore.Open(shared))
        using (var b = TrustStore.Open(shared))
        {
            Add(a, 1, at);
            a.Flush();
            Add(b, 1, at); // stored by a
            Add(b, 2, at);
            b.Flush();
            Add(a, 2, at); // stored by b since a last held the file
            Add(a, 1, at); // stored by a itself
            Add(a, 3, at);
            a.Flush();
            Add(b, 3, at); // stored by a since b last held the file
            b.Flush();
        }
        Assert.Equal([3L, 3L], Longs(Path.Combine(shared, "trust", "trust.duckdb"), "SELECT count(*), count(DISTINCT job_id) FROM job_records"));
    }

    [Fact]
    public void A_flush_that_fails_part_way_leaves_nothing_of_itself_in_the_file_and_the_next_one_writes_it_once()
    {
        // A flush appends receipts, then job records, straight into the file's tables inside one transaction. Here the
        // job record breaks a CHECK another program put on the table, after the receipt went in: the whole flush must
        // roll back and stay queued, and once the table accepts it, the next flush must write each row once.
        var at = DateTimeOffset.UtcNow;
        using var requester = Ed25519Key.Generate();
        using var host = Ed25519Key.Generate();
        Receipt ReceiptFor(int i) => new Receipt
        {
            JobId = $"job-{i:D4}", WorkerId = Core.Protocol.JobIds.NodeIdOf(host.PublicKey), RequesterId = Core.Protocol.JobIds.NodeIdOf(requester.PublicKey), QueryHash = "q", ResultHash = $"hash-{i}",
            Verdict = Verdict.Correct, Timestamp = (ulong)at.ToUnixTimeSeconds(),
        }.SignWith(requester);
        var file = Path.Combine(_dir, "trust", "trust.duckdb");
        using (var store = TrustStore.Open(_dir))
        {
            Assert.True(store.AddReceipt(ReceiptFor(0)));
            Add(store, 0, at);
            store.Flush();
        }
        RecreateJobRecords(file, "CHECK (winner <> 'refused')");

        using (var store = TrustStore.Open(_dir))
        {
            Assert.True(store.AddReceipt(ReceiptFor(1)));
            store.AddJobRecord("job-0001", "q", "hash-1", Cert(1), "requester-1", "refused", at);
            var error = Assert.ThrowsAny<Exception>(store.Flush);
            _output.WriteLine($"the failed flush: {error.Message}");
            Assert.Contains("CHECK", error.Message, StringComparison.OrdinalIgnoreCase);
            // Held as another process would hold it: the store's writer cannot take the queue out for a retry meanwhile.
            using (HoldStoreLock())
            {
                Assert.Equal((1, 1), (store.PendingReceipts, store.PendingJobRecords));
                Assert.Equal((1L, 1L), Counts(file));
                RecreateJobRecords(file, null);
            }
            store.Flush();
            Assert.Equal((0, 0), (store.PendingReceipts, store.PendingJobRecords));
        }
        Assert.Equal((2L, 2L), Counts(file));
        // The columns a flush does not append take their defaults: when a receipt arrived, and no epoch yet.
        Assert.Equal([0L], Longs(file, "SELECT (SELECT count(*) FROM receipts WHERE received_at IS NULL OR seq IS NULL) + (SELECT count(*) FROM job_records WHERE epoch IS NOT NULL)"));
    }

    private static (long Receipts, long JobRecords) Counts(string file) =>
        Longs(file, "SELECT (SELECT count(*) FROM receipts), (SELECT count(*) FROM job_records)") is [var receipts, var records] ? (receipts, records) : default;

    /// <summary>The first row of <paramref name="sql"/> (BIGINT columns) over the store file, opened on its own.</summary>
    private static long[] Longs(string file, string sql)
    {
        using var db = Duckton.DuckDB.DuckDBDatabase.Open(file);
        using var c = db.Connect();
        var rows = c.QueryWith(sql);
        return [.. rows.Batches[0].Columns.Select(column => BitConverter.ToInt64(column.GetFixed(0)))];
    }

    /// <summary>Rebuilds the file's job_records table with its rows, as the store defines it plus <paramref name="check"/>.</summary>
    private static void RecreateJobRecords(string file, string? check)
    {
        using var db = Duckton.DuckDB.DuckDBDatabase.Open(file);
        using var c = db.Connect();
        c.Execute("BEGIN; ALTER TABLE job_records RENAME TO job_records_kept; " +
            "CREATE TABLE job_records (job_id VARCHAR NOT NULL, query_hash VARCHAR NOT NULL, result_hash VARCHAR NOT NULL, certificate_hash BLOB NOT NULL, " +
            $"requester VARCHAR NOT NULL, winner VARCHAR NOT NULL, ts_ms UBIGINT NOT NULL, epoch UBIGINT, leaf_index UBIGINT{(check is null ? "" : ", " + check)}); " +
            "INSERT INTO job_records SELECT * FROM job_records_kept; DROP TABLE job_records_kept; COMMIT");
    }

    [Fact]
    public void A_canary_flush_costs_the_same_with_100k_canaries_stored()
    {
        // Audit canaries go out with about one query in twenty, each outcome stored. Under a unique index on the job id,
        // DuckDB rewrote the whole index at every commit's checkpoint, so each flush grew with every canary ever stored
        // (measured with the index: best 4.5 ms with ~60 stored, 12.1 ms with 100,120; without it 2.9 and 3.1 ms).
        using var store = TrustStore.Open(_dir);
        double BestFlushMs()
        {
            var best = double.MaxValue;
            for (var f = 0; f < 30; f++)
            {
                store.RecordCanary(Guid.NewGuid().ToString("N"), "w1", Verdict.Correct);
                store.RecordCanary(Guid.NewGuid().ToString("N"), "w2", Verdict.Timeout);
                var sw = Stopwatch.StartNew();
                store.Flush();
                best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
            }
            return best;
        }
        var small = BestFlushMs();
        for (var i = 0; i < 100_000; i++)
        {
            store.RecordCanary(Guid.NewGuid().ToString("N"), "w1", Verdict.Correct);
            if (i % 10_000 == 9_999)
            {
                store.Flush();
            }
        }
        var large = BestFlushMs();
        Assert.Equal(100_120L, store.Verification().CanariesRun);
        _output.WriteLine($"best flush of 2 canaries: {small:F2} ms with ~60 stored, {large:F2} ms with 100,120");
        Assert.True(large < 2 * small, $"best flush of 2 canaries: {small:F2} ms with ~60 stored, {large:F2} ms with 100,120");
    }

    [Fact]
    public void A_store_written_with_unique_keys_is_rebuilt_without_them_and_keeps_its_rows_and_uniqueness()
    {
        // A schema-5 store: receipts, job records and canaries under a unique index, which DuckDB rewrites in full at
        // every checkpoint (each write-behind commit). Opening it rebuilds the three tables without the index.
        var trustDir = Path.Combine(_dir, "trust");
        Directory.CreateDirectory(trustDir);
        using (var db = Duckton.DuckDB.DuckDBDatabase.Open(Path.Combine(trustDir, "trust.duckdb")))
        using (var c = db.Connect())
        {
            c.Execute("""
                CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
                INSERT INTO meta VALUES ('seq', '1'), ('block_seq', '0'), ('schema_version', '5');
                CREATE TABLE receipts (
                    worker_id VARCHAR NOT NULL, replay_fp UBIGINT NOT NULL, job_id VARCHAR NOT NULL, requester_id VARCHAR NOT NULL,
                    query_hash VARCHAR, input_fingerprint VARCHAR, result_hash VARCHAR, verdict UTINYINT NOT NULL,
                    latency_ms UBIGINT, ts UBIGINT NOT NULL, observed_input_bytes UBIGINT, observed_result_rows UBIGINT,
                    observed_result_bytes UBIGINT, requester_pubkey BLOB, signature BLOB, received_at TIMESTAMPTZ DEFAULT now(),
                    PRIMARY KEY (worker_id, replay_fp));
                ALTER TABLE receipts ADD COLUMN seq UBIGINT;
                INSERT INTO receipts (worker_id, replay_fp, job_id, requester_id, verdict, ts, seq) VALUES ('w1', 42, 'old-job', 'r1', 1, 1700000000, 1);
                CREATE TABLE job_records (job_id VARCHAR PRIMARY KEY, query_hash VARCHAR NOT NULL, result_hash VARCHAR NOT NULL,
                    certificate_hash BLOB NOT NULL, requester VARCHAR NOT NULL, winner VARCHAR NOT NULL, ts_ms UBIGINT NOT NULL, epoch UBIGINT, leaf_index UBIGINT);
                CREATE TABLE canaries (job_id VARCHAR PRIMARY KEY, node_id VARCHAR NOT NULL, verdict UTINYINT NOT NULL, ts_ms UBIGINT NOT NULL, seq UBIGINT);
                INSERT INTO canaries VALUES ('old-canary', 'w1', 2, 5, 1);
                """);
            c.QueryWith("INSERT INTO job_records VALUES ('job-0001', 'q', 'h', $1, 'r1', 'w1', 5, NULL, NULL)", Cert(1));
        }
        var at = DateTimeOffset.UtcNow;
        using (var store = TrustStore.Open(_dir))
        {
            Assert.Equal(1, store.ReceiptCount());
            Assert.Equal("old-job", Assert.Single(store.Receipts("w1")).JobId);
            Assert.Equal("h", store.JobRecordOf("job-0001")!.ResultHash);
            Add(store, 1, at); // the same job id again: skipped by the insert, as the index did
            Add(store, 2, at);
            Assert.Equal((1L, 1L), (store.Verification().CanariesRun, store.Verification().CanariesFailed));
            store.RecordCanary("new-canary", "w1", Verdict.Correct);
            store.RecordCanary("new-canary", "w1", Verdict.Correct); // judged once: the duplicate is not stored
            Assert.Equal((2L, 1L), (store.Verification().CanariesRun, store.Verification().CanariesFailed));
        }
        // Two handles on the store (two processes sharing a config directory) that both accepted one receipt: stored once.
        using (var requester = Ed25519Key.Generate())
        using (var worker = Ed25519Key.Generate())
        {
            var receipt = new Receipt
            {
                JobId = "shared-job",
                WorkerId = NodeIds.FromPublicKey(worker.PublicKey),
                RequesterId = NodeIds.FromPublicKey(requester.PublicKey),
                QueryHash = "q",
                ResultHash = "r",
                Verdict = Verdict.Correct,
                Timestamp = (ulong)at.ToUnixTimeSeconds(),
                LatencyMs = 3,
            }.SignWith(requester);
            using var a = TrustStore.Open(_dir);
            using var b = TrustStore.Open(_dir);
            Assert.True(a.AddReceipt(receipt));
            Assert.True(b.AddReceipt(receipt)); // b has not merged a's pending receipt: it counts it too
            a.Flush();
            b.Flush();
            Assert.Equal(2, a.ReceiptCount());
            Assert.Equal(2, b.ReceiptCount());
        }
        using (var db = Duckton.DuckDB.DuckDBDatabase.Open(Path.Combine(trustDir, "trust.duckdb")))
        using (var c = db.Connect())
        {
            var keys = c.QueryWith("SELECT count(*) FROM duckdb_constraints() WHERE table_name IN ('receipts', 'job_records', 'canaries') AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')");
            Assert.Equal(0L, BitConverter.ToInt64(keys.Batches[0].Columns[0].GetFixed(0)));
            var rows = c.QueryWith("SELECT count(*), count(*) FILTER (WHERE job_id = 'job-0001' AND result_hash = 'h') FROM job_records");
            Assert.Equal((2L, 1L), (BitConverter.ToInt64(rows.Batches[0].Columns[0].GetFixed(0)), BitConverter.ToInt64(rows.Batches[0].Columns[1].GetFixed(0))));
            var received = c.QueryWith("SELECT count(*) FROM receipts WHERE received_at IS NOT NULL AND seq = 1");
            Assert.Equal(1L, BitConverter.ToInt64(received.Batches[0].Columns[0].GetFixed(0)));
        }
    }
}

using Duckton.Core.Records;
using Duckton.DuckDB;

namespace Duckton.Node.Trust;

/// <summary>A verified job this node requested, as stored (epoch null until the record is sealed).</summary>
public sealed record StoredJobRecord(string JobId, string QueryHash, string ResultHash, byte[] CertificateHash, string Requester, string Winner,
    DateTimeOffset At, uint? Epoch, long? LeafIndex);

/// <summary>A sealed epoch: its root over the records sealed into it, and where it was anchored (null: local only).</summary>
public sealed record SealedEpoch(uint Epoch, byte[] Root, long LeafCount, DateTimeOffset SealedAt, AnchorReference? Anchor, DateTimeOffset? AnchoredAt);

public sealed partial class TrustStore
{
    /// <summary>A job record accepted but not yet committed (written behind with the receipts).</summary>
    private sealed record PendingJobRecord(string JobId, string QueryHash, string ResultHash, byte[] CertificateHash, string Requester, string Winner, ulong TsMs);

    private List<PendingJobRecord> _pendingRecords = [];
    private bool _recordsClosed;

    /// <summary>
    /// Stores the record of a verified job (idempotent per job id), sealed into the next epoch. Written behind like a
    /// receipt: the query path only queues it, and the background writer commits it with the receipts of the same
    /// window (<see cref="WriteBehindWindow"/>); sealing, every read of the records and <see cref="Dispose"/> commit
    /// what is queued first.
    /// </summary>
    public void AddJobRecord(string jobId, string queryHash, string resultHash, byte[] certificateHash, string requester, string winner, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        ArgumentNullException.ThrowIfNull(queryHash);
        ArgumentNullException.ThrowIfNull(resultHash);
        ArgumentNullException.ThrowIfNull(certificateHash);
        ArgumentNullException.ThrowIfNull(requester);
        ArgumentNullException.ThrowIfNull(winner);
        if (certificateHash.Length != 32)
        {
            throw new ArgumentException("the certificate hash must be 32 bytes", nameof(certificateHash));
        }
        var record = new PendingJobRecord(jobId, queryHash, resultHash, (byte[])certificateHash.Clone(), requester, winner, (ulong)Math.Max(0, at.ToUnixTimeMilliseconds()));
        lock (_pendingGate)
        {
            // Not _gate: that is held for a whole session, and the query path must not wait on the file. Dispose closes
            // the queue under this lock before its last flush, so a record is either refused here or committed there.
            ObjectDisposedException.ThrowIf(_recordsClosed, this);
            _pendingRecords.Add(record);
        }
        Wake();
    }

    /// <summary>Job records accepted but not yet committed to the file by the background writer.</summary>
    public int PendingJobRecords
    {
        get
        {
            lock (_pendingGate)
            {
                return _pendingRecords.Count;
            }
        }
    }

    /// <summary>
    /// A 64-bit key of every job id in the file while this process holds it (null until a flush needs it after attaching):
    /// no other process can write the file meanwhile, so a queued record whose key is absent is not stored. A key present
    /// means stored or a collision; that record alone is looked up in the table.
    /// </summary>
    private HashSet<ulong>? _storedJobKeys;

    private static readonly string[] s_jobRecordColumns = ["job_id", "query_hash", "result_hash", "certificate_hash", "requester", "winner", "ts_ms"];

    /// <summary>
    /// Appends the queued job records to the file's table in the flush's transaction (a job id queued twice in one
    /// window once, the first; one already stored not again).
    /// </summary>
    private void AppendJobRecords(DuckDBConnection connection, List<PendingJobRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }
        var keys = _storedJobKeys ??= StoredJobKeys(connection);
        var fresh = new List<PendingJobRecord>(records.Count);
        foreach (var r in records.DistinctBy(r => r.JobId, StringComparer.Ordinal))
        {
            // No unique index (see DropGrowingKeys). Added before the commit: a rolled-back key only sends a later flush
            // to the table, never past it.
            if (keys.Add(JobKey(r.JobId)) || ReadLong(connection.QueryWith("SELECT count(*) FROM job_records WHERE job_id = $1", r.JobId), 0, 0) == 0)
            {
                fresh.Add(r);
            }
        }
        if (fresh.Count == 0)
        {
            return;
        }
        using var appender = DuckDBAppender.Open(connection, StoreCatalog, "main", "job_records", s_jobRecordColumns);
        foreach (var r in fresh)
        {
            appender.Append(r.JobId).Append(r.QueryHash).Append(r.ResultHash).Append(r.CertificateHash).Append(r.Requester).Append(r.Winner).Append(r.TsMs).EndRow();
        }
        appender.Flush();
    }

    private static HashSet<ulong> StoredJobKeys(DuckDBConnection connection)
    {
        var keys = new HashSet<ulong>();
        ForEachRow(connection.QueryWith("SELECT job_id FROM job_records"), (b, r) => keys.Add(JobKey(b.Columns[0].GetBytes(r))));
        return keys;
    }

    private static ulong JobKey(string jobId)
    {
        var length = System.Text.Encoding.UTF8.GetByteCount(jobId);
        Span<byte> utf8 = length <= 256 ? stackalloc byte[length] : new byte[length];
        System.Text.Encoding.UTF8.GetBytes(jobId, utf8);
        return JobKey(utf8);
    }

    /// <summary>FNV-1a over the id's UTF-8 bytes (as stored), so stored ids need no string to be made.</summary>
    private static ulong JobKey(ReadOnlySpan<byte> utf8)
    {
        var h = 14695981039346656037UL;
        foreach (var b in utf8)
        {
            h = (h ^ b) * 1099511628211UL;
        }
        return h;
    }

    /// <summary>
    /// Seals every unsealed record received before <paramref name="before"/> into one new epoch, numbered one above the
    /// newest sealed epoch and at least <paramref name="minEpoch"/> (an anchor contract ahead of this store sets it).
    /// Leaves are ordered by job id (ordinal). Returns null when there was nothing to seal (an empty epoch has no root).
    /// </summary>
    public SealedEpoch? SealEpoch(DateTimeOffset before, uint minEpoch = 1) => Session(connection =>
    {
        // No other writer while the session holds the file, so what is read here is what the transaction below updates.
        var cutoff = U((ulong)Math.Max(0, before.ToUnixTimeMilliseconds()));
        var rows = connection.QueryWith("SELECT job_id, query_hash, result_hash, certificate_hash, requester, winner FROM job_records " +
            "WHERE epoch IS NULL AND ts_ms < $1::UBIGINT", cutoff);
        var pending = new List<(string JobId, string QueryHash, string ResultHash, byte[] Cert, string Requester, string Winner)>();
        ForEachRow(rows, (b, r) => pending.Add((Text(b, 0, r), Text(b, 1, r), Text(b, 2, r), b.Columns[3].GetBytes(r).ToArray(), Text(b, 4, r), Text(b, 5, r))));
        // Ordinal on the job ids: the documented leaf order.
        pending.Sort((x, y) => string.CompareOrdinal(x.JobId, y.JobId));
        if (pending.Count == 0)
        {
            return null;
        }
        var newest = ReadLong(connection.QueryWith("SELECT coalesce(max(epoch), 0)::BIGINT FROM record_epochs"), 0, 0);
        var epoch = (uint)Math.Max(newest + 1, minEpoch);
        var leaves = pending.Select(p => new JobRecord(p.JobId, p.QueryHash, p.ResultHash, p.Cert, p.Requester, p.Winner, epoch).Leaf()).ToList();
        var root = RecordTree.Root(leaves);
        // Each record's leaf index, staged (outside the file's transaction: one transaction writes one database) and set by
        // one join: a statement per record scanned the table each time, minutes of CPU for a busy minute's records.
        connection.Execute("DELETE FROM memory.main.staged_leaves"); // left over should an earlier seal have failed to clear it
        using (var appender = DuckDBAppender.Open(connection, "memory", "main", "staged_leaves"))
        {
            for (var i = 0; i < pending.Count; i++)
            {
                appender.Append(pending[i].JobId).Append((ulong)i).EndRow();
            }
            appender.Flush();
        }
        try
        {
            return InTransaction(connection, (_, _) =>
            {
                var updated = connection.QueryWith("UPDATE job_records SET epoch = $1::UBIGINT, leaf_index = s.leaf_index FROM memory.main.staged_leaves s " +
                    "WHERE job_records.job_id = s.job_id AND job_records.epoch IS NULL", U(epoch));
                if (ReadLong(updated, 0, 0) != pending.Count)
                {
                    throw new InvalidOperationException($"sealing epoch {epoch}: {ReadLong(updated, 0, 0)} records updated for {pending.Count} leaves");
                }
                var now = _time.GetUtcNow();
                connection.QueryWith("INSERT INTO record_epochs VALUES ($1::UBIGINT, $2, $3::UBIGINT, $4::UBIGINT, NULL, NULL, NULL, NULL)",
                    U(epoch), root, U((ulong)pending.Count), U((ulong)now.ToUnixTimeMilliseconds()));
                return new SealedEpoch(epoch, root, pending.Count, now, null, null);
            });
        }
        finally
        {
            try
            {
                connection.Execute("DELETE FROM memory.main.staged_leaves");
            }
            catch (DuckDBException)
            {
                // Cleared before the next seal stages; the seal's own error is the one to report.
            }
        }
    });

    /// <summary>Records that <paramref name="epoch"/>'s root was anchored on chain.</summary>
    public void MarkEpochAnchored(uint epoch, AnchorReference anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        Write((connection, _) => connection.QueryWith(
            "UPDATE record_epochs SET network = $1, anchor_address = $2, anchor_tx = $3, anchored_ms = $4::UBIGINT WHERE epoch = $5::UBIGINT",
            anchor.Network, anchor.Address, anchor.TransactionHash, U((ulong)_time.GetUtcNow().ToUnixTimeMilliseconds()), U(epoch)));
    }

    /// <summary>Every sealed epoch, oldest first.</summary>
    public IReadOnlyList<SealedEpoch> Epochs()
    {
        var rows = Session(connection => connection.QueryWith(
            "SELECT epoch::BIGINT, root, leaf_count::BIGINT, sealed_ms::BIGINT, network, anchor_address, anchor_tx, anchored_ms::BIGINT FROM record_epochs ORDER BY epoch"));
        var list = new List<SealedEpoch>();
        ForEachRow(rows, (b, r) =>
        {
            var anchored = b.Columns[5].IsValid(r);
            list.Add(new SealedEpoch((uint)Long(b, 0, r), b.Columns[1].GetBytes(r).ToArray(), Long(b, 2, r), DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 3, r)),
                anchored ? new AnchorReference(Text(b, 4, r), Text(b, 5, r), Text(b, 6, r)) : null,
                anchored ? DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 7, r)) : null));
        });
        return list;
    }

    /// <summary>The stored record of <paramref name="jobId"/>, or null.</summary>
    public StoredJobRecord? JobRecordOf(string jobId)
    {
        var rows = Session(connection => connection.QueryWith(
            "SELECT job_id, query_hash, result_hash, certificate_hash, requester, winner, ts_ms::BIGINT, epoch::BIGINT, leaf_index::BIGINT FROM job_records WHERE job_id = $1", jobId));
        StoredJobRecord? found = null;
        ForEachRow(rows, (b, r) => found = new StoredJobRecord(Text(b, 0, r), Text(b, 1, r), Text(b, 2, r), b.Columns[3].GetBytes(r).ToArray(), Text(b, 4, r),
            Text(b, 5, r), DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 6, r)), b.Columns[7].IsValid(r) ? (uint)Long(b, 7, r) : null,
            b.Columns[8].IsValid(r) ? Long(b, 8, r) : null));
        return found;
    }

    /// <summary>
    /// The inclusion proof of a sealed job's record, rebuilt from every record of its epoch; null when the job is unknown
    /// or not sealed yet. Throws <see cref="InvalidOperationException"/> when the stored epoch no longer folds to its root.
    /// </summary>
    public JobProof? ProofOf(string jobId)
    {
        var (records, epoch) = Session(connection =>
        {
            var e = connection.QueryWith("SELECT epoch::BIGINT FROM job_records WHERE job_id = $1 AND epoch IS NOT NULL", jobId);
            if (e.RowCount == 0)
            {
                return ((List<(JobRecord Record, long Index)>?)null, (SealedEpoch?)null);
            }
            var n = (uint)ReadLong(e, 0, 0);
            var rows = connection.QueryWith("SELECT job_id, query_hash, result_hash, certificate_hash, requester, winner, leaf_index::BIGINT FROM job_records " +
                "WHERE epoch = $1::UBIGINT ORDER BY leaf_index", U(n));
            var list = new List<(JobRecord Record, long Index)>();
            ForEachRow(rows, (b, r) => list.Add((new JobRecord(Text(b, 0, r), Text(b, 1, r), Text(b, 2, r), b.Columns[3].GetBytes(r).ToArray(), Text(b, 4, r), Text(b, 5, r), n),
                Long(b, 6, r))));
            var ep = connection.QueryWith("SELECT root, leaf_count::BIGINT, sealed_ms::BIGINT, network, anchor_address, anchor_tx, anchored_ms::BIGINT FROM record_epochs WHERE epoch = $1::UBIGINT", U(n));
            SealedEpoch? sealedEpoch = null;
            ForEachRow(ep, (b, r) => sealedEpoch = new SealedEpoch(n, b.Columns[0].GetBytes(r).ToArray(), Long(b, 1, r), DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 2, r)),
                b.Columns[4].IsValid(r) ? new AnchorReference(Text(b, 3, r), Text(b, 4, r), Text(b, 5, r)) : null,
                b.Columns[4].IsValid(r) ? DateTimeOffset.FromUnixTimeMilliseconds(Long(b, 6, r)) : null));
            return (list, sealedEpoch);
        });
        if (records is null || epoch is null)
        {
            return null;
        }
        var index = records.FindIndex(x => x.Record.JobId == jobId);
        if (records.Count != epoch.LeafCount || records.Select((x, i) => x.Index == i).Any(ok => !ok))
        {
            throw new InvalidOperationException($"epoch {epoch.Epoch} of the record store is damaged: {records.Count} records for {epoch.LeafCount} leaves");
        }
        var (root, path) = RecordTree.Prove(records.Select(x => x.Record.Leaf()).ToList(), index);
        if (!root.AsSpan().SequenceEqual(epoch.Root))
        {
            throw new InvalidOperationException($"epoch {epoch.Epoch} of the record store no longer folds to its sealed root");
        }
        return new JobProof(records[index].Record, index, records.Count, path, root, epoch.Anchor);
    }
}

using Duckton.Core.Data;
using Duckton.Core.Records;
using Duckton.DuckDB.Functions;

namespace Duckton.Sql;

/// <summary>
/// <c>p2p_job_proof(job_id)</c>: the inclusion proof of a verified job this node requested: its epoch, leaf, root, the
/// path, where the root was anchored, and the whole proof as a JSON document that checks offline. Epochs that are due
/// are sealed first, so a record is provable once its epoch window (economics.records.epoch_secs) has ended.
/// </summary>
internal sealed class JobProofFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_job_proof";
    public override IReadOnlyList<TableFunctionParameter> Positional => [new("job_id", ParameterKind.Varchar)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var jobId = (a.Positional.Count > 0 ? a.Positional[0] as string : null)?.Trim();
        if (string.IsNullOrEmpty(jobId))
        {
            throw new SqlFunctionException("p2p_job_proof: give a job id, e.g. SELECT * FROM p2p_job_proof('<job_id from p2p_query_meta>')");
        }
        var keeper = host.Node.RecordKeeper;
        if (keeper.ActiveAnchor() is not null)
        {
            // The keeper node (economics on): seal and anchor what is due now, so the proof names its anchor transaction.
            keeper.RunOnceAsync(a.Cancellation).GetAwaiter().GetResult();
        }
        else
        {
            keeper.SealDue();
        }
        var record = host.Trust.JobRecordOf(jobId)
            ?? throw new SqlFunctionException($"p2p_job_proof: no job record for '{jobId}'; records are kept for the verified remote queries this node requested");
        if (record.Epoch is null)
        {
            var secs = (long)host.Config.Effective().Config.Economics.Records.Epoch.TotalSeconds;
            var ends = keeper.WindowStart().AddSeconds(secs);
            throw new SqlFunctionException($"p2p_job_proof: the record of job '{jobId}' is not sealed yet; its epoch ends at {ends:yyyy-MM-dd HH:mm:ss} UTC (economics.records.epoch_secs = {secs})");
        }
        JobProof proof;
        try
        {
            proof = host.Trust.ProofOf(jobId) ?? throw new SqlFunctionException($"p2p_job_proof: the record of job '{jobId}' vanished while its proof was built");
        }
        catch (InvalidOperationException e)
        {
            throw new SqlFunctionException("p2p_job_proof: " + e.Message, e);
        }
        var path = proof.Path.Select(s => (s.SiblingIsLeft ? "left:" : "right:") + Convert.ToHexStringLower(s.Sibling)).ToList();
        return new TypedResult()
            .Column("job_id", DuckType.Varchar)
            .Column("epoch", TypedResult.UBigInt)
            .Column("leaf_index", DuckType.BigInt)
            .Column("leaf_count", DuckType.BigInt)
            .Column("leaf", DuckType.Varchar)
            .Column("root", DuckType.Varchar)
            .Column("path", TypedResult.VarcharList)
            .Column("anchored", DuckType.Boolean)
            .Column("network", DuckType.Varchar)
            .Column("anchor_address", DuckType.Varchar)
            .Column("anchor_tx", DuckType.Varchar)
            .Column("proof", DuckType.Varchar)
            .Row(jobId, (ulong)proof.Record.Epoch, proof.Index, proof.LeafCount, Convert.ToHexStringLower(proof.Record.Leaf()), Convert.ToHexStringLower(proof.Root),
                path, proof.Anchor is not null, proof.Anchor?.Network, proof.Anchor?.Address, proof.Anchor?.TransactionHash, proof.ToJson())
            .Build();
    }
}

/// <summary>
/// <c>p2p_verify_proof(proof)</c> or <c>p2p_verify_proof(NULL, file => 'path')</c>: checks a job proof offline (no node, no
/// chain): the leaf is the record's hash and the path folds to the root. Whether that root is the one anchored is a
/// chain question (the anchor columns are what the proof claims).
/// </summary>
internal sealed class VerifyProofFunction : TableFunctionDefinition
{
    public override string Name => "p2p_verify_proof";
    public override IReadOnlyList<TableFunctionParameter> Positional => [new("proof", ParameterKind.Varchar)];
    public override IReadOnlyList<TableFunctionParameter> Named => [new("file", ParameterKind.Varchar)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var text = a.Positional.Count > 0 ? a.Positional[0] as string : null;
        var file = a.GetString("file");
        if (file is not null && !string.IsNullOrWhiteSpace(text))
        {
            throw new SqlFunctionException("p2p_verify_proof: give the proof text or file => 'path', not both");
        }
        if (file is not null)
        {
            try
            {
                var info = new FileInfo(file);
                if (info.Exists && info.Length > JobProof.MaxDocumentBytes)
                {
                    throw new SqlFunctionException($"p2p_verify_proof: {file} is larger than a proof can be ({JobProof.MaxDocumentBytes} bytes)");
                }
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SqlFunctionException($"p2p_verify_proof: cannot read {file}: {e.Message}", e);
            }
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new SqlFunctionException("p2p_verify_proof: give a proof, e.g. SELECT * FROM p2p_verify_proof('<the proof column of p2p_job_proof>') or p2p_verify_proof(NULL, file => 'proof.json')");
        }
        return Rows(JobProof.Verify(text));
    }

    public static ResultSet Rows((string? Problem, JobProof? Proof) check)
    {
        var (problem, proof) = check;
        return new TypedResult()
            .Column("valid", DuckType.Boolean)
            .Column("error", DuckType.Varchar)
            .Column("job_id", DuckType.Varchar)
            .Column("epoch", TypedResult.UBigInt)
            .Column("root", DuckType.Varchar)
            .Column("network", DuckType.Varchar)
            .Column("anchor_address", DuckType.Varchar)
            .Column("anchor_tx", DuckType.Varchar)
            .Row(problem is null, problem, proof?.Record.JobId, proof is null ? null : (ulong?)proof.Record.Epoch, proof is null ? null : Convert.ToHexStringLower(proof.Root),
                proof?.Anchor?.Network, proof?.Anchor?.Address, proof?.Anchor?.TransactionHash)
            .Build();
    }
}

/// <summary><c>p2p_epochs()</c>: the epochs this node sealed, their roots and where each was anchored (due epochs are sealed first).</summary>
internal sealed class EpochsFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_epochs";

    public override ResultSet Bind(TableFunctionArguments a)
    {
        host.Node.RecordKeeper.SealDue();
        var t = new TypedResult()
            .Column("epoch", TypedResult.UBigInt)
            .Column("root", DuckType.Varchar)
            .Column("leaf_count", DuckType.BigInt)
            .Column("sealed_at", TypedResult.TimestampTz)
            .Column("anchored", DuckType.Boolean)
            .Column("network", DuckType.Varchar)
            .Column("anchor_address", DuckType.Varchar)
            .Column("anchor_tx", DuckType.Varchar)
            .Column("anchored_at", TypedResult.TimestampTz);
        foreach (var e in host.Trust.Epochs())
        {
            t.Row((ulong)e.Epoch, Convert.ToHexStringLower(e.Root), e.LeafCount, e.SealedAt, e.Anchor is not null, e.Anchor?.Network, e.Anchor?.Address,
                e.Anchor?.TransactionHash, e.AnchoredAt);
        }
        return t.Build();
    }
}

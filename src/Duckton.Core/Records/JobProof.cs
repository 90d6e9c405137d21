using System.Text.Json;
using System.Text.Json.Nodes;

namespace Duckton.Core.Records;

/// <summary>Where an epoch's root was anchored (as the node recorded it; offline verification cannot check it).</summary>
/// <param name="Network">The economics network (local, testnet, mainnet).</param>
/// <param name="Address">The RecordAnchor contract's address (raw form).</param>
/// <param name="TransactionHash">The hash of the anchor's transaction that stored the root (hex).</param>
public sealed record AnchorReference(string Network, string Address, string TransactionHash);

/// <summary>
/// A self-contained inclusion proof of one job record (the JSON document <c>p2p_job_proof</c> returns and
/// <c>p2p_verify_proof</c> / <c>duckton proof verify</c> check offline). Format: docs/PROTOCOL.md "Job records and epoch roots".
/// </summary>
public sealed record JobProof(JobRecord Record, long Index, long LeafCount, IReadOnlyList<ProofStep> Path, byte[] Root, AnchorReference? Anchor)
{
    public const string Format = "duckton-job-proof-v1";

    /// <summary>Largest proof document accepted (a proof is at most 32 steps; the rest is the record).</summary>
    public const int MaxDocumentBytes = 64 * 1024;

    public string ToJson()
    {
        var record = new JsonObject
        {
            ["job_id"] = Record.JobId,
            ["query_hash"] = Record.QueryHash,
            ["result_hash"] = Record.ResultHash,
            ["certificate_hash"] = Convert.ToHexStringLower(Record.CertificateHash),
            ["requester"] = Record.Requester,
            ["winner"] = Record.Winner,
            ["epoch"] = Record.Epoch,
        };
        var path = new JsonArray();
        foreach (var s in Path)
        {
            path.Add((JsonNode)new JsonObject { ["side"] = s.SiblingIsLeft ? "left" : "right", ["hash"] = Convert.ToHexStringLower(s.Sibling) });
        }
        var doc = new JsonObject
        {
            ["format"] = Format,
            ["record"] = record,
            ["leaf"] = Convert.ToHexStringLower(Record.Leaf()),
            ["index"] = Index,
            ["leaf_count"] = LeafCount,
            ["path"] = path,
            ["root"] = Convert.ToHexStringLower(Root),
            ["anchor"] = Anchor is null ? null : new JsonObject
            {
                ["network"] = Anchor.Network, ["address"] = Anchor.Address, ["tx"] = Anchor.TransactionHash,
            },
        };
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Parses a proof document; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static JobProof Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.Length > MaxDocumentBytes)
        {
            throw new FormatException($"a proof document is at most {MaxDocumentBytes} bytes");
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException("the proof is not JSON: " + e.Message);
        }
        if (node is not JsonObject doc)
        {
            throw new FormatException("the proof is not a JSON object");
        }
        if (Text(doc, "format") != Format)
        {
            throw new FormatException($"the proof's format is not {Format}");
        }
        if (doc["record"] is not JsonObject r)
        {
            throw new FormatException("the proof has no record object");
        }
        var record = new JobRecord(Text(r, "job_id"), Text(r, "query_hash"), Text(r, "result_hash"), Hash(r, "certificate_hash"),
            Text(r, "requester"), Text(r, "winner"), checked((uint)Number(r, "epoch", uint.MaxValue)));
        if (doc["path"] is not JsonArray pathArray)
        {
            throw new FormatException("the proof has no path array");
        }
        if (pathArray.Count > RecordTree.MaxDepth)
        {
            throw new FormatException($"the path has more than {RecordTree.MaxDepth} steps");
        }
        var path = new List<ProofStep>();
        foreach (var step in pathArray)
        {
            if (step is not JsonObject s)
            {
                throw new FormatException("a path step is not an object");
            }
            var side = Text(s, "side");
            if (side is not ("left" or "right"))
            {
                throw new FormatException($"a path step's side is '{side}', not left or right");
            }
            path.Add(new ProofStep(side == "left", Hash(s, "hash")));
        }
        AnchorReference? anchor = null;
        if (doc["anchor"] is JsonObject a)
        {
            anchor = new AnchorReference(Text(a, "network"), Text(a, "address"), Text(a, "tx"));
        }
        else if (doc["anchor"] is not null)
        {
            throw new FormatException("the proof's anchor is neither an object nor null");
        }
        var leafCount = Number(doc, "leaf_count", uint.MaxValue);
        var proof = new JobProof(record, Number(doc, "index", uint.MaxValue), leafCount, path, Hash(doc, "root"), anchor);
        // The stated leaf is redundant (it is recomputed from the record) but a mismatch says the record was edited.
        var leaf = Hash(doc, "leaf");
        if (!leaf.AsSpan().SequenceEqual(record.Leaf()))
        {
            throw new FormatException("the stated leaf is not the hash of the record");
        }
        return proof;
    }

    /// <summary>
    /// Checks the proof offline: the leaf is the record's hash, the path has the shape its index and leaf count imply,
    /// and it folds to the root. It cannot check that the root was anchored (that needs the chain); it returns null when
    /// the proof holds, else why not.
    /// </summary>
    public string? Problem()
    {
        IReadOnlyList<bool> sides;
        try
        {
            sides = RecordTree.ExpectedSides(Index, LeafCount);
        }
        catch (ArgumentOutOfRangeException e)
        {
            return e.Message.Split(Environment.NewLine)[0].Split(" (Parameter")[0];
        }
        if (sides.Count != Path.Count)
        {
            return $"the path has {Path.Count} steps; leaf {Index} of {LeafCount} needs {sides.Count}";
        }
        for (var i = 0; i < sides.Count; i++)
        {
            if (sides[i] != Path[i].SiblingIsLeft)
            {
                return $"path step {i} puts its sibling on the {(Path[i].SiblingIsLeft ? "left" : "right")}; leaf {Index} of {LeafCount} needs it on the {(sides[i] ? "left" : "right")}";
            }
        }
        var folded = RecordTree.Fold(Record.Leaf(), Path);
        return folded.AsSpan().SequenceEqual(Root) ? null : "the path does not fold to the root: the record is not in this epoch's tree";
    }

    /// <summary>Parses and checks <paramref name="json"/>: (null, proof) when it holds, else (why not, the proof if it parsed).</summary>
    public static (string? Problem, JobProof? Proof) Verify(string json)
    {
        JobProof proof;
        try
        {
            proof = Parse(json);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return (e.Message, null);
        }
        return (proof.Problem(), proof);
    }

    private static string Text(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"the proof's \"{name}\" is missing or not a string");

    private static long Number(JsonObject o, string name, long max) =>
        o[name] is JsonValue v && v.TryGetValue<long>(out var n) && n >= 0 && n <= max ? n : throw new FormatException($"the proof's \"{name}\" is missing or not a number in 0..{max}");

    private static byte[] Hash(JsonObject o, string name)
    {
        var s = Text(o, name);
        if (s.Length != 64 || !s.All(Uri.IsHexDigit))
        {
            throw new FormatException($"the proof's \"{name}\" is not 64 hex digits");
        }
        return Convert.FromHexString(s);
    }
}

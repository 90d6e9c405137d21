using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using Duckton.Core.Crypto;
using Duckton.Core.Data;
using Duckton.Core.Hashing;
using Duckton.Core.Protocol;
using Duckton.Node;

namespace Duckton.Grid.Tests;

/// <summary>Three honest host processes and a requester: enough for real certificates with quorum 2 of 3.</summary>
public sealed class CertificateGridFixture : IDisposable
{
    public CertificateGridFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-cert-tests-").FullName;
        Requester = new Requester(Root, "requester");
        H1 = HostProcess.Start(Root, "h1");
        var seed = new[] { "--seed", H1.Address };
        var started = new[] { HostProcess.StartAsync(Root, "h2", seed), HostProcess.StartAsync(Root, "h3", seed) };
        H2 = started[0].GetAwaiter().GetResult();
        H3 = started[1].GetAwaiter().GetResult();
        Requester.JoinAndLearn(H1.Address, 3);
    }

    public string Root { get; }
    public Requester Requester { get; }
    public HostProcess H1 { get; }
    public HostProcess H2 { get; }
    public HostProcess H3 { get; }

    public void Dispose() => FixtureTeardown.Run(Requester, [H1, H2, H3], Root);
}

/// <summary>
/// docs/PROTOCOL.md is enough to verify a certificate: <c>tools/certificate_reference.py</c>, written from that document
/// alone (BLAKE3 from b3sum, Ed25519 from libsodium), must reach the same verdict as <see cref="CommitCertificate.Verify"/>
/// on real certificates of a real grid query and on tampered and fabricated ones, and recompute the query hash.
/// </summary>
public sealed class CertificateReferenceTests(CertificateGridFixture grid) : IClassFixture<CertificateGridFixture>
{
    private static readonly string s_repo = FindRepo();
    private static readonly string s_tool = Path.Combine(s_repo, "tools", "certificate_reference.py");

    // Leading and trailing whitespace on purpose: the query hash is over the SQL exactly as given.
    private const string Sql = "  SELECT range AS i, 'row ' || range AS s, [range::DECIMAL(10,2), NULL] AS l, {'a': range::UTINYINT, 'b': [true]} AS st,"
        + " 'x'::ENUM('x', 'y') AS e, [1.5, 2.5]::DOUBLE[2] AS arr, MAP {'k': range} AS m FROM range(10) ORDER BY i \n";

    private QueryOutcome RealQuery() =>
        grid.Requester.Host.Node.Query(Sql, new QueryOverrides
        {
            Prefer = Duckton.Core.Configuration.PlannerPreference.Remote,
            Replicas = 3,
            Quorum = 2,
            Nodes = [grid.H1.NodeId, grid.H2.NodeId, grid.H3.NodeId],
        });

    [Fact]
    public void The_engine_version_in_the_query_hash_is_the_documented_string()
    {
        // docs/PROTOCOL.md quotes this string; a DuckDB upgrade must update the document.
        Assert.Equal("duckdb-v1.5.6", GridNode.EngineVersion);
        Assert.Equal("duckdb-" + Duckton.DuckDB.Native.DuckDBNative.LibraryVersion, GridNode.EngineVersion);
    }

    [PythonFact]
    public void The_reference_verifier_accepts_a_real_certificate_and_recomputes_its_query_hash()
    {
        var outcome = RealQuery();
        var meta = outcome.Meta;
        Assert.True(meta.Verified);
        var cert = meta.Certificate!;
        var check = CommitCertificate.Verify(cert, 2, meta.AgreedHash);
        Assert.True(check.Valid, check.Error);

        var sqlFile = Path.Combine(grid.Root, "query.sql");
        File.WriteAllText(sqlFile, Sql);
        var hosts = new[] { grid.H1.NodeId, grid.H2.NodeId, grid.H3.NodeId };
        var (code, report) = Verify(cert, ["--quorum", "2", "--result-hash", meta.AgreedHash!, "--sql-file", sqlFile, "--engine-version", GridNode.EngineVersion,
            "--requester", grid.Requester.Host.Node.NodeId, .. hosts.SelectMany(h => new[] { "--trusted-host", h })]);
        Assert.True(code == 0, report.GetRawText());
        Assert.Equal(check.JobId, report.GetProperty("job_id").GetString());
        Assert.Equal(meta.JobId, report.GetProperty("job_id").GetString());
        Assert.Equal(check.QueryHash, report.GetProperty("query_hash").GetString());
        Assert.Equal(JobIds.QueryHash(GridNode.EngineVersion, Sql), report.GetProperty("expected_query_hash").GetString());
        Assert.Equal(meta.AgreedHash, report.GetProperty("result_hash").GetString());
        Assert.Equal(10UL, report.GetProperty("row_count").GetUInt64());
        Assert.Equal("", report.GetProperty("input_fingerprint").GetString());
        Assert.Equal(grid.Requester.Host.Node.NodeId, report.GetProperty("requester").GetString());
        Assert.Equal(2, report.GetProperty("quorum").GetInt32());
        Assert.Equal(3, report.GetProperty("replicas").GetInt32());
        Assert.Equal(check.HostSet.Order(), Strings(report, "host_set").Order());
        Assert.Equal(hosts.Order(), check.HostSet.Order());
        Assert.Equal(check.Hosts, Strings(report, "hosts"));
        Assert.True(check.Hosts.Count >= 2);
        Assert.Equal(BatchCodec.EncodeSchema(outcome.Result.Schema), Convert.FromHexString(report.GetProperty("schema").GetString()!));
        // The schema decoded by the Python tool from the "Batch encoding" section alone equals the result's schema.
        var schema = outcome.Result.Schema;
        var columns = report.GetProperty("columns").EnumerateArray().ToList();
        Assert.Equal(schema.Count, columns.Count);
        for (var c = 0; c < schema.Count; c++)
        {
            Assert.Equal(schema.Names[c], columns[c][0].GetString());
            Assert.Equal(TypeText(schema.Types[c]), TypeText(columns[c][1]));
        }
        Assert.Contains("33(2,11)", TypeText(columns[5][1])); // DOUBLE[2]: id 33, size 2, element 11

        // Untrimmed: the trimmed text is another query.
        var trimmedFile = Path.Combine(grid.Root, "trimmed.sql");
        File.WriteAllText(trimmedFile, Sql.Trim());
        Assert.Equal(check.QueryHash, QueryHashTool(GridNode.EngineVersion, sqlFile));
        Assert.NotEqual(check.QueryHash, QueryHashTool(GridNode.EngineVersion, trimmedFile));
        Assert.NotEqual(check.QueryHash, QueryHashTool("duckdb-1.5.6", sqlFile)); // without the "v"
        var (trimmedCode, trimmedReport) = Verify(cert, ["--sql-file", trimmedFile, "--engine-version", GridNode.EngineVersion]);
        Assert.Equal(1, trimmedCode);
        Assert.Contains("another query", trimmedReport.GetProperty("error").GetString());

        // Pins: another requester, or hosts the verifier does not trust, fail the check.
        Assert.Equal(1, Verify(cert, ["--requester", NewNodeId()]).Code);
        Assert.Equal(1, Verify(cert, ["--quorum", "2", "--trusted-host", check.Hosts[0]]).Code);
    }

    [PythonFact]
    public void The_reference_verifier_and_Verify_agree_on_tampered_and_fabricated_certificates()
    {
        var meta = RealQuery().Meta;
        var real = meta.Certificate!;
        var contents = CommitCertificate.Decode(real);
        var raw = Convert.FromBase64String(real["dcc2:".Length..]);
        var cases = new List<(string Name, string Certificate, bool Valid)>
        {
            ("real", real, true),
            ("dcc1 prefix", "dcc1:" + real["dcc2:".Length..], false),
            ("no prefix", real["dcc2:".Length..], false),
            ("not base64", real[..^2] + "!!", false),
            ("truncated", Text(raw[..^1]), false),
            ("trailing byte", Text([.. raw, 0]), false),
            ("version 3", Text(Flip(raw, 0, 0x01)), false),
        };
        // One flipped bit anywhere breaks a signature: in the requester key, replicas, quorum, a host id, each commit, the signature.
        foreach (var offset in new[] { 1, 33, 34, 40, raw.Length / 2, raw.Length - 100, raw.Length - 65, raw.Length - 1 })
        {
            cases.Add(($"bit flipped at {offset}", Text(Flip(raw, offset, 0x10)), false));
        }

        // Re-signed with the real requester's identity (what its coordinator would sign), so only the changed field can fail.
        var identity = grid.Requester.Host.Node.Identity;
        string Resign(IReadOnlyList<CommitMessage> commits, int replicas, int quorum, IReadOnlyList<string> hosts) =>
            CommitCertificate.Encode(commits, identity.PublicKey.Span, replicas, quorum, hosts, m => identity.Sign(m));
        cases.Add(("real commits re-signed unchanged", Resign(contents.Commits, contents.Replicas, contents.Quorum, contents.HostSet), true));
        cases.Add(("real commits, quorum raised to 3", Resign(contents.Commits, 3, 3, contents.HostSet), contents.Commits.Count >= 3));
        cases.Add(("real commits, host set without the first host",
            Resign(contents.Commits, contents.Replicas, 1, [.. contents.HostSet.Where(h => h != contents.Commits[0].HostNodeId)]), false));
        cases.Add(("real commits, one dropped below quorum", Resign(contents.Commits.Take(1).ToList(), contents.Replicas, 2, contents.HostSet), false));
        cases.Add(("real commit twice", Resign([contents.Commits[0], contents.Commits[0]], contents.Replicas, 2, contents.HostSet), false));
        cases.Add(("real body, signature of another body", CommitCertificate.Encode(contents.Commits, identity.PublicKey.Span, contents.Replicas, 1, contents.HostSet,
            _ => CommitCertificate.Decode(Resign(contents.Commits, contents.Replicas, 2, contents.HostSet)).Signature), false));
        using var otherRequester = Ed25519Key.Generate();
        cases.Add(("real commits re-signed by another requester",
            CommitCertificate.Encode(contents.Commits, otherRequester.PublicKey, contents.Replicas, contents.Quorum, contents.HostSet, m => otherRequester.Sign(m)), false));

        // Fabricated with fresh keys: what an offline check can and cannot tell.
        using var requester = Ed25519Key.Generate();
        var keys = Enumerable.Range(0, 3).Select(_ => Ed25519Key.Generate()).ToArray();
        try
        {
            var ids = keys.Select(k => JobIds.NodeIdOf(k.PublicKey)).ToList();
            var requesterId = JobIds.NodeIdOf(requester.PublicKey);
            var schema = BatchCodec.EncodeSchema(new ResultSchema(["x"], [DuckType.Of(DuckTypeId.Integer)]));
            var job = JobIds.NewJobId();
            var query = JobIds.QueryHash(GridNode.EngineVersion, "SELECT 42 AS x");
            var hash = new string('a', 64);
            CommitMessage Commit(int host, string? jobId = null, ulong rows = 1, byte[]? fingerprint = null, byte[]? schemaBytes = null, string? forRequester = null) =>
                new CommitMessage(jobId ?? job, query, forRequester ?? requesterId, keys[host].PublicKey.ToArray(), fingerprint ?? [], hash, rows, schemaBytes ?? schema, 1234)
                    .SignWith(b => keys[host].Sign(b));
            cases.Add(("any two fresh keys", Encode(requester, [Commit(0), Commit(1)], 3, 2, ids), true));
            cases.Add(("more commits than the quorum", Encode(requester, [Commit(0), Commit(1), Commit(2)], 3, 2, ids), true));
            cases.Add(("quorum 0", Encode(requester, [Commit(0), Commit(1)], 3, 0, ids), false));
            cases.Add(("replicas below quorum", Encode(requester, [Commit(0), Commit(1)], 1, 2, ids), false));
            cases.Add(("quorum above the host set", Encode(requester, [Commit(0), Commit(1)], 3, 3, ids.Take(2).ToList()), false));
            cases.Add(("no commit", Encode(requester, [], 3, 2, ids), false));
            cases.Add(("another job", Encode(requester, [Commit(0), Commit(1, jobId: JobIds.NewJobId())], 3, 2, ids), false));
            cases.Add(("another row count", Encode(requester, [Commit(0), Commit(1, rows: 2)], 3, 2, ids), false));
            cases.Add(("another input", Encode(requester, [Commit(0), Commit(1, fingerprint: new byte[32])], 3, 2, ids), false));
            cases.Add(("another schema", Encode(requester, [Commit(0), Commit(1, schemaBytes: BatchCodec.EncodeSchema(new ResultSchema(["y"], [DuckType.Of(DuckTypeId.Integer)])))], 3, 2, ids), false));
            cases.Add(("commit for another requester", Encode(requester, [Commit(0), Commit(1, forRequester: ids[2])], 3, 2, ids), false));
            cases.Add(("forged commit signature", Encode(requester, [Commit(0), Commit(1) with { Signature = Commit(0).Signature }], 3, 2, ids), false));

            foreach (var (name, certificate, valid) in cases)
            {
                var check = CommitCertificate.Verify(certificate, 2);
                Assert.True(check.Valid == valid, $"{name}: Verify says {check.Valid} ({check.Error}), expected {valid}");
                var (code, report) = Verify(certificate, ["--quorum", "2"]);
                Assert.True((code == 0) == valid, $"{name}: the reference verifier says {report.GetRawText()}, expected valid = {valid}");
            }

            // The caller's own demands: a result hash, a larger quorum.
            Assert.False(CommitCertificate.Verify(real, 2, new string('0', 64)).Valid);
            Assert.Equal(1, Verify(real, ["--result-hash", new string('0', 64)]).Code);
            var commitsInReal = contents.Commits.Count;
            Assert.Equal(CommitCertificate.Verify(real, commitsInReal + 1).Valid, Verify(real, ["--quorum", (commitsInReal + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)]).Code == 0);
            Assert.False(CommitCertificate.Verify(real, commitsInReal + 1).Valid);
        }
        finally
        {
            foreach (var k in keys)
            {
                k.Dispose();
            }
        }
    }

    /// <summary>
    /// The stored forms docs/PROTOCOL.md gives for BIT, BIGNUM and TIME WITH TIME ZONE (its worked examples) are what
    /// DuckDB holds: the canonical hash of a real DuckDB result equals the hash built by hand from those bytes.
    /// </summary>
    [Theory]
    [InlineData("'101'::BIT", 29, "05fd")]
    [InlineData("'1'::BIT", 29, "07ff")]
    [InlineData("'000000001'::BIT", 29, "07fe01")]
    [InlineData("'11110000'::BIT", 29, "00f0")]
    [InlineData("0::BIGNUM", 35, "80000100")]
    [InlineData("1::BIGNUM", 35, "80000101")]
    [InlineData("-1::BIGNUM", 35, "7ffffefe")]
    [InlineData("256::BIGNUM", 35, "8000020100")]
    [InlineData("-256::BIGNUM", 35, "7ffffdfeff")]
    [InlineData("'00:00:00+00'::TIMETZ", 30, "ffe0000000000000")]
    [InlineData("'12:34:56+02'::TIMETZ", 30, "dfc400001cda8b0a")]
    [InlineData("'00:00:00-01'::TIMETZ", 30, "0fef000000000000")]
    [InlineData("'12:00:00+05:30'::TIMETZ", 30, "a7930000b0eb0e0a")]
    public void Bit_bignum_and_timetz_hash_from_their_documented_stored_bytes(string expression, byte typeId, string storedHex)
    {
        var literal = "'SELECT " + expression.Replace("'", "''", StringComparison.Ordinal) + " AS v'";
        var meta = grid.Requester.Meta(literal, ", prefer => 'local'");
        Assert.True(meta["verified"] == "true", string.Join("; ", meta.Select(kv => kv.Key + "=" + kv.Value)));
        var stored = Convert.FromHexString(storedHex);
        // Byte strings (BIT, BIGNUM) carry a u32 length; TIME WITH TIME ZONE is its u64 as stored.
        byte[] body = typeId == 30 ? stored : [.. U32((uint)stored.Length), .. stored];
        byte[] row = [typeId, .. body];
        byte[] header = [.. "duckton-result-v1"u8, .. U32(1), .. U32(1), (byte)'v', typeId, .. U64(1)];
        var expected = Blake3.Hash([.. header, .. Blake3.DeriveKey("duckton-result-v1 row", row)]);
        Assert.Equal(Convert.ToHexStringLower(expected), meta["agreed_hash"]);
    }

    [Fact]
    public void Timetz_packs_microseconds_and_the_offset_as_documented()
    {
        // 12:34:56+02 = 45,296,000,000 µs, offset +7200 s -> (45296000000 << 24) | (57599 - 7200).
        var bits = (45_296_000_000UL << 24) | (57599 - 7200);
        Assert.Equal("dfc400001cda8b0a", Convert.ToHexStringLower(U64(bits)));
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>A type as <c>id(parameters)</c>, from the C# type …</summary>
    private static string TypeText(DuckType t) => t.Id switch
    {
        DuckTypeId.Decimal => $"19({t.Width},{t.Scale})",
        DuckTypeId.Enum => $"23({string.Join(",", t.EnumValues)})",
        DuckTypeId.List => $"24({TypeText(t.Element!)})",
        DuckTypeId.Array => $"33({t.ArraySize},{TypeText(t.Element!)})",
        DuckTypeId.Map => $"26({TypeText(t.Fields[0].Type)},{TypeText(t.Fields[1].Type)})",
        DuckTypeId.Struct or DuckTypeId.Union => $"{(int)t.Id}({string.Join(",", t.Fields.Select(f => f.Name + ":" + TypeText(f.Type)))})",
        _ => ((int)t.Id).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>… and from the reference tool's decoded JSON.</summary>
    private static string TypeText(JsonElement t)
    {
        var id = t.GetProperty("id").GetInt32();
        return id switch
        {
            19 => $"19({t.GetProperty("width").GetInt32()},{t.GetProperty("scale").GetInt32()})",
            23 => $"23({string.Join(",", t.GetProperty("labels").EnumerateArray().Select(l => l.GetString()))})",
            24 => $"24({TypeText(t.GetProperty("element"))})",
            33 => $"33({t.GetProperty("size").GetInt32()},{TypeText(t.GetProperty("element"))})",
            26 => $"26({TypeText(t.GetProperty("key"))},{TypeText(t.GetProperty("value"))})",
            25 or 28 => $"{id}({string.Join(",", t.GetProperty("fields").EnumerateArray().Select(f => f[0].GetString() + ":" + TypeText(f[1])))})",
            _ => id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static string Text(byte[] raw) => "dcc2:" + Convert.ToBase64String(raw);

    private static byte[] Flip(byte[] raw, int offset, byte mask)
    {
        var copy = raw.ToArray();
        copy[offset] ^= mask;
        return copy;
    }

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    private static string NewNodeId()
    {
        using var k = Ed25519Key.Generate();
        return JobIds.NodeIdOf(k.PublicKey);
    }

    private static string Encode(Ed25519Key signer, IReadOnlyList<CommitMessage> commits, int replicas, int quorum, IReadOnlyList<string> hosts) =>
        CommitCertificate.Encode(commits, signer.PublicKey, replicas, quorum, hosts, m => signer.Sign(m));

    private static IEnumerable<string> Strings(JsonElement report, string name) => report.GetProperty(name).EnumerateArray().Select(e => e.GetString()!);

    private static (int Code, JsonElement Report) Verify(string certificate, string[] options)
    {
        var (code, stdout, stderr) = RunTool(["verify", "-", .. options], certificate);
        Assert.True(code is 0 or 1, $"certificate_reference.py failed ({code}): {stderr}");
        return (code, JsonDocument.Parse(stdout).RootElement.Clone());
    }

    private static string QueryHashTool(string engineVersion, string sqlFile)
    {
        var (code, stdout, stderr) = RunTool(["query-hash", engineVersion, sqlFile], "");
        Assert.True(code == 0, stderr);
        return stdout.Trim();
    }

    private static (int Code, string Stdout, string Stderr) RunTool(string[] arguments, string stdin)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(s_tool);
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "certificate_reference.py did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Duckton.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}

/// <summary>A fact that runs the Python reference verifier: skipped only where python3 is not installed.</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, "python3"))))
        {
            Skip = "python3 is not installed";
        }
    }
}

/// <summary>The query-hash test vectors docs/PROTOCOL.md ("Identifiers") gives.</summary>
public sealed class QueryHashVectorTests
{
    [Theory]
    [InlineData("duckdb-v1.5.6", "SELECT 42 AS answer", "1efc9f51cbb2a9c8dffc761796a1da930bd862251707da327ce7cadfc1dff1c5")]
    [InlineData("duckdb-v1.5.6", "SELECT 42 AS answer ", "a7726cff17f6eaee69f114043154ca81d03eaea341e89aca3104b2aa59cede72")]
    [InlineData("duckdb-1.5.6", "SELECT 42 AS answer", "0263f3e105a0faffe2bdb06f0a01b6aeb501b1e5dc45f1e3e6cfa343cbe5915a")]
    public void Query_hashes_match_the_documented_vectors(string engineVersion, string sql, string expected)
    {
        Assert.Equal(expected, JobIds.QueryHash(engineVersion, sql));
        // The documented construction, from the BLAKE3 API alone.
        byte[] input = [.. "duckton-query-v1"u8, .. System.Text.Encoding.UTF8.GetBytes(engineVersion), 0, .. System.Text.Encoding.UTF8.GetBytes(sql)];
        Assert.Equal(expected, Convert.ToHexStringLower(Blake3.Hash(input)));
    }

    [Fact]
    public void Long_and_multibyte_sql_hashes_by_the_documented_construction_on_either_side_of_the_stack_buffer()
    {
        // Up to 1 KiB of input is hashed from the stack, longer from a pooled buffer: every length across the edge, and
        // SQL of several chunks with multi-byte characters.
        var lengths = Enumerable.Range(980, 80).Append(5000).Append(70_000);
        foreach (var length in lengths)
        {
            var sql = "SELECT 'é€😀' AS x, " + new string('y', length) + " AS z";
            byte[] input = [.. "duckton-query-v1"u8, .. "duckdb-v1.5.6"u8, 0, .. System.Text.Encoding.UTF8.GetBytes(sql)];
            Assert.Equal(Convert.ToHexStringLower(Blake3.Hash(input)), JobIds.QueryHash("duckdb-v1.5.6", sql));
        }
    }
}

/// <summary>Every row <c>p2p_query_meta</c> can show is documented in docs/PROTOCOL.md and README.md.</summary>
public sealed class QueryMetaDocumentationTests
{
    [Fact]
    public void Every_p2p_query_meta_row_is_documented()
    {
        // Every optional text set, so every conditional row (including ones added later) is emitted.
        var everything = new QueryMeta { JobId = "j" };
        foreach (var property in typeof(QueryMeta).GetProperties().Where(p => p.PropertyType == typeof(string) && p.CanWrite))
        {
            property.SetValue(everything, "x");
        }
        var keys = everything.ToRows().Select(r => r.Key).ToList();
        Assert.Contains("certificate", keys);
        Assert.Contains("error", keys);
        Assert.Contains("rejected", keys);
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(repo.FullName, "Duckton.sln")))
        {
            repo = repo.Parent!;
        }
        foreach (var doc in new[] { "docs/PROTOCOL.md", "README.md" })
        {
            var text = File.ReadAllText(Path.Combine(repo.FullName, doc));
            var missing = keys.Where(k => !text.Contains($"| `{k}` |", StringComparison.Ordinal)).ToList();
            Assert.True(missing.Count == 0, $"{doc} has no table row for p2p_query_meta key(s): {string.Join(", ", missing)}");
        }
    }
}

/// <summary>The worked certificate of docs/PROTOCOL.md ("Commit certificates", "Worked example"), byte for byte.</summary>
public sealed class CertificateVectorTests
{
    private static string Repo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir.FullName, "Duckton.sln")))
        {
            dir = dir.Parent!;
        }
        return dir.FullName;
    }

    /// <summary>The certificate text under the <c>certificate-vector</c> marker, its lines joined.</summary>
    private static string DocumentedText()
    {
        var doc = File.ReadAllText(Path.Combine(Repo(), "docs", "PROTOCOL.md")).Replace("\r", "", StringComparison.Ordinal);
        var start = doc.IndexOf("<!-- certificate-vector -->\n```\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/PROTOCOL.md has no certificate-vector block");
        var body = doc[(start + "<!-- certificate-vector -->\n```\n".Length)..];
        return body[..body.IndexOf("```", StringComparison.Ordinal)].Replace("\n", "", StringComparison.Ordinal);
    }

    private static string Build()
    {
        using var requester = Ed25519Key.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray());
        using var a = Ed25519Key.FromSeed(Enumerable.Repeat((byte)2, 32).ToArray());
        using var b = Ed25519Key.FromSeed(Enumerable.Repeat((byte)3, 32).ToArray());
        var requesterId = JobIds.NodeIdOf(requester.PublicKey);
        Assert.Equal("b3:83561adb398fd87f8e7ed8331bff2fcb945733cc3012879cb9fab07928667062", requesterId);
        var schema = BatchCodec.EncodeSchema(new ResultSchema(["answer"], [DuckType.Integer]));
        Assert.Equal("010106616e7377657204", Convert.ToHexStringLower(schema));
        var commits = new[] { a, b }.Select(k => new CommitMessage("00112233445566778899aabbccddeeff", JobIds.QueryHash("duckdb-v1.5.6", "SELECT 42 AS answer"), requesterId,
            k.PublicKey.ToArray(), [], "da1bd514e59a587a0a642a7330515a6a26557735ce37b06477a9e4e874231e2e", 1, schema, 1000).SignWith(m => k.Sign(m))).ToList();
        Assert.Equal(281, commits[0].Encode().Length);
        return CommitCertificate.Encode(commits, requester.PublicKey, 2, 2, [JobIds.NodeIdOf(a.PublicKey), JobIds.NodeIdOf(b.PublicKey)], m => requester.Sign(m));
    }

    [Fact]
    public void The_encoder_produces_the_documented_certificate()
    {
        var text = Build();
        Assert.Equal(DocumentedText(), text);
        Assert.Equal(815, Convert.FromBase64String(text["dcc2:".Length..]).Length);
        var check = CommitCertificate.Verify(text, 2, "da1bd514e59a587a0a642a7330515a6a26557735ce37b06477a9e4e874231e2e");
        Assert.True(check.Valid, check.Error);
    }

    [PythonFact]
    public void The_reference_verifier_accepts_the_documented_certificate()
    {
        var sqlFile = Path.GetTempFileName();
        try
        {
            File.WriteAllText(sqlFile, "SELECT 42 AS answer");
            var psi = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { Path.Combine(Repo(), "tools", "certificate_reference.py"), "verify", "-", "--quorum", "2", "--sql-file", sqlFile, "--engine-version", "duckdb-v1.5.6",
                "--requester", "b3:83561adb398fd87f8e7ed8331bff2fcb945733cc3012879cb9fab07928667062" })
            {
                psi.ArgumentList.Add(arg);
            }
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardInput.Write(DocumentedText());
            p.StandardInput.Close();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)));
            Assert.True(p.ExitCode == 0, stdout.Result + stderr.Result);
            Assert.Contains("\"result_hash\": \"da1bd514e59a587a0a642a7330515a6a26557735ce37b06477a9e4e874231e2e\"", stdout.Result, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(sqlFile);
        }
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Duckton.Cli.Tests;

/// <summary>
/// Anchored job records through the CLI: a real <c>duckton grid up</c> (three host processes), a verified remote query
/// from <c>duckton sql</c>, its record sealed into an epoch, <c>p2p_job_proof</c> / <c>p2p_epochs</c> /
/// <c>p2p_verify_proof</c> in later processes, and <c>duckton proof verify FILE</c> offline (no node, no config).
/// </summary>
public partial class JobProofTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-job-proof-").FullName;
    private Process? _grid;

    public void Dispose()
    {
        GridUpProcess.Stop(_grid);
        Directory.Delete(_dir, recursive: true);
    }

    private string Requester => Path.Combine(_dir, "requester");

    private CliRunner.Result Sql(params string[] commands) =>
        CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", Requester, "--format", "jsonlines",
            .. commands.SelectMany(c => new[] { "-c", c })], timeout: TimeSpan.FromMinutes(4));

    private static CliRunner.Result Duckton(params string[] args) =>
        CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), .. args], timeout: TimeSpan.FromMinutes(2));

    private static List<JsonObject> Rows(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private string StartGrid()
    {
        (_grid, var seed) = GridUpProcess.Start(Path.Combine(_dir, "grid"), wait: TimeSpan.FromMinutes(3));
        return seed;
    }

    [Fact]
    public void A_verified_remote_job_gets_an_inclusion_proof_that_verifies_offline_and_a_tampered_one_does_not()
    {
        var seed = StartGrid();
        const string Query = "SELECT 7 AS v, sum(range) AS s FROM range(1000)";
        // A long epoch first: the record exists but is not sealed, and the error says when it will be.
        var r = Sql("SELECT * FROM p2p_set('economics.records.epoch_secs', '3600')",
            $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])",
            $"SELECT key, value FROM p2p_query_meta('{Query}', prefer => 'remote', replicas => 3, quorum => 2)");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var meta = Rows(r.Stdout).Where(o => o.ContainsKey("key")).ToDictionary(o => (string)o["key"]!, o => (string)o["value"]!);
        Assert.True(meta["verified"] == "true", r.Stdout);
        var jobId = meta["job_id"];
        r = Sql($"SELECT * FROM p2p_job_proof('{jobId}')");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"the record of job '{jobId}' is not sealed yet; its epoch ends at", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("(economics.records.epoch_secs = 3600)", r.Stderr, StringComparison.Ordinal);

        // One-second epochs: the window holding the record has ended, so the next call seals it into epoch 1.
        Assert.Equal(0, Sql("SELECT * FROM p2p_set('economics.records.epoch_secs', '1')").ExitCode);
        Thread.Sleep(1100);
        r = Sql($"SELECT job_id, epoch, typeof(epoch) AS t, leaf_index, leaf_count, root, len(path) AS steps, anchored, anchor_tx, proof FROM p2p_job_proof('{jobId}')",
            "SELECT epoch, root, leaf_count, anchored FROM p2p_epochs()");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = Rows(r.Stdout);
        var proofRow = rows[0];
        Assert.Equal(jobId, (string)proofRow["job_id"]!);
        Assert.Equal(1, (int)proofRow["epoch"]!);
        Assert.Equal("UBIGINT", (string)proofRow["t"]!);
        Assert.Equal((0, 1), ((int)proofRow["leaf_index"]!, (int)proofRow["leaf_count"]!));
        Assert.Equal(0, (int)proofRow["steps"]!); // a single leaf: the root is its leaf node
        Assert.False((bool)proofRow["anchored"]!); // economics is off: the root is only stored locally
        Assert.Null(proofRow["anchor_tx"]);
        var epochRow = rows[1];
        Assert.Equal(((int)1, (string)proofRow["root"]!, 1, false), ((int)epochRow["epoch"]!, (string)epochRow["root"]!, (int)epochRow["leaf_count"]!, (bool)epochRow["anchored"]!));

        // The proof binds the certificate and the agreed hash the query returned.
        var proof = (string)proofRow["proof"]!;
        var doc = JsonNode.Parse(proof)!.AsObject();
        Assert.Equal(jobId, (string)doc["record"]!["job_id"]!);
        Assert.Equal(1, (int)doc["record"]!["epoch"]!);
        // The record names the query by the hash its commits signed (the documented construction over the SQL).
        global::Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary(); // the engine version the query hash binds to
        Assert.Equal(global::Duckton.Core.Protocol.JobIds.QueryHash(global::Duckton.Node.GridNode.EngineVersion, Query),
            (string)doc["record"]!["query_hash"]!);
        Assert.Equal(meta["agreed_hash"], (string)doc["record"]!["result_hash"]!);

        // Offline: the CLI checks the file with no node and no configuration directory.
        var file = Path.Combine(_dir, "proof.json");
        File.WriteAllText(file, proof);
        var v = Duckton("proof", "verify", file);
        Assert.True(v.ExitCode == 0, v.Stdout + v.Stderr);
        Assert.StartsWith($"valid: job {jobId} is leaf 0 of 1 in epoch 1, root {(string)proofRow["root"]!}; not anchored", v.Stdout, StringComparison.Ordinal);
        doc["record"]!["winner"] = "b3:" + new string('0', 64);
        File.WriteAllText(file, doc.ToJsonString());
        v = Duckton("proof", "verify", file);
        Assert.Equal(1, v.ExitCode);
        Assert.Equal("invalid: the stated leaf is not the hash of the record", v.Stdout.Trim());
        doc = JsonNode.Parse(proof)!.AsObject();
        doc["root"] = new string('e', 64);
        File.WriteAllText(file, doc.ToJsonString());
        v = Duckton("proof", "verify", file);
        Assert.Equal(1, v.ExitCode);
        Assert.Contains("does not fold to the root", v.Stdout, StringComparison.Ordinal);
        v = Duckton("proof", "verify", Path.Combine(_dir, "missing.json"));
        Assert.Equal(2, v.ExitCode);
        Assert.Contains("cannot read", v.Stderr, StringComparison.Ordinal);

        // The same verdicts in SQL.
        var tamperedSql = doc.ToJsonString().Replace("'", "''", StringComparison.Ordinal);
        r = Sql($"SELECT valid, error, job_id, epoch FROM p2p_verify_proof('{proof.Replace("'", "''", StringComparison.Ordinal)}')", // DuckDB takes no subquery as a table function argument
            $"SELECT valid, error FROM p2p_verify_proof('{tamperedSql}')",
            $"SELECT valid FROM p2p_verify_proof(NULL, file => '{Path.Combine(_dir, "proof.json")}')");
        Assert.True(r.ExitCode == 0, r.Stderr);
        rows = Rows(r.Stdout);
        Assert.True((bool)rows[0]["valid"]!);
        Assert.Null(rows[0]["error"]);
        Assert.Equal((jobId, 1), ((string)rows[0]["job_id"]!, (int)rows[0]["epoch"]!));
        Assert.False((bool)rows[1]["valid"]!);
        Assert.Contains("does not fold to the root", (string)rows[1]["error"]!, StringComparison.Ordinal);
        Assert.False((bool)rows[2]["valid"]!);
    }

    [Fact]
    public void Proof_functions_refuse_bad_input_with_clear_errors()
    {
        var r = Sql("SELECT * FROM p2p_job_proof('no-such-job')");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("p2p_job_proof: no job record for 'no-such-job'", r.Stderr, StringComparison.Ordinal);
        r = Sql("SELECT * FROM p2p_job_proof('')");
        Assert.Contains("p2p_job_proof: give a job id", r.Stderr, StringComparison.Ordinal);
        r = Sql("SELECT * FROM p2p_verify_proof('')");
        Assert.Contains("p2p_verify_proof: give a proof", r.Stderr, StringComparison.Ordinal);
        r = Sql("SELECT * FROM p2p_verify_proof('x', file => '/tmp/x')");
        Assert.Contains("not both", r.Stderr, StringComparison.Ordinal);
        r = Sql("SELECT valid, error FROM p2p_verify_proof('not json')", "SELECT count(*) AS n FROM p2p_epochs()");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = Rows(r.Stdout);
        Assert.False((bool)rows[0]["valid"]!);
        Assert.StartsWith("the proof is not JSON", (string)rows[0]["error"]!, StringComparison.Ordinal);
        Assert.Equal(0, (int)rows[1]["n"]!);
        var v = Duckton("proof", "verify");
        Assert.Equal(2, v.ExitCode);
    }
}

using System.Globalization;
using System.Text.Json;
using Duckton.Core.Protocol;

namespace Duckton.Extension.Tests;

/// <summary>
/// The extension as a grid client over TLS, from two DuckDB clients: the official Node client (a process that carries
/// and exports its own OpenSSL) and a C program on DuckDB's C API. Both join a real <c>duckton grid up --hosts 3</c> and
/// run verified remote queries with replicas 3, quorum 2, prefer remote.
/// </summary>
[Collection(ExtensionCollection.Name)]
public sealed class GridClientTests(ExtensionFixture fixture, LoopbackGridFixture gridFixture) : IClassFixture<LoopbackGridFixture>
{
    private LoopbackGrid Grid => gridFixture.Grid;

    private static Dictionary<string, string?> Map(JsonElement obj) =>
        obj.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.ToString());

    /// <summary>A temporary configuration directory for one client process (its identity and trust store), removed afterwards.</summary>
    private static T WithConfigDirectory<T>(Func<string, T> run)
    {
        var dir = Directory.CreateTempSubdirectory("duckton-ext-client-").FullName;
        try
        {
            return run(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private void AssertCertificate(string? certificate, string? jobId)
    {
        Assert.NotNull(certificate);
        Assert.StartsWith(CommitCertificate.Prefix, certificate, StringComparison.Ordinal);
        var check = CommitCertificate.Verify(certificate, 2);
        Assert.True(check.Valid, check.Error);
        Assert.Equal(jobId, check.JobId);
        Assert.True(check.Hosts.Count >= 2, $"{check.Hosts.Count} signed commits");
        Assert.All(check.Hosts, h => Assert.Contains(h, Grid.NodeIds));
    }

    [Fact]
    public void The_Node_client_joins_a_grid_over_TLS_and_gets_verified_remote_answers_with_a_certificate()
    {
        var result = WithConfigDirectory(dir => NodeClient.Run("grid_query.cjs", [fixture.ExtensionPath, Grid.Seed, "3"],
            new Dictionary<string, string?> { ["P2P_CONFIG_DIR"] = dir }));
        Assert.True(result.ExitCode == 0, $"{result}\n--- grid up stderr\n{Grid.Stderr}");
        var report = NodeClient.LastJsonLine(result);

        // Joining is the TLS handshake with each host: it fails when two OpenSSL copies mix in one process.
        Assert.True(report.GetProperty("peersLive").GetInt32() >= 3,
            $"the Node process knows {report.GetProperty("peersLive")} of 3 hosts; last gossip error: {report.GetProperty("lastGossipError")}");
        // The extension brings its OpenSSL linked in: it loads no shared libssl/libcrypto into the Node process
        // (whose own OpenSSL is linked into the node binary and exported).
        Assert.Empty(report.GetProperty("sharedOpenSsl").EnumerateArray());

        var typed = report.GetProperty("typed");
        Assert.Equal(["i", "big", "label", "quarter", "even", "day", "price"], typed.GetProperty("names").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["INTEGER", "BIGINT", "VARCHAR", "DOUBLE", "BOOLEAN", "DATE", "DECIMAL(10,2)"], typed.GetProperty("types").EnumerateArray().Select(e => e.GetString()));
        // The C API's duckdb_type numbers, as the Node client reports them.
        Assert.Equal([4, 5, 17, 11, 1, 13, 19], typed.GetProperty("typeIds").EnumerateArray().Select(e => e.GetInt32()));
        var rows = typed.GetProperty("rows");
        Assert.Equal(5, rows.GetArrayLength());
        for (var i = 0; i < 5; i++)
        {
            var row = rows[i];
            Assert.Equal(i, row[0].GetInt32());
            Assert.Equal((i * 1_000_000_000_000L).ToString(CultureInfo.InvariantCulture), row[1].GetString());
            Assert.Equal($"row-{i}", row[2].GetString());
            Assert.Equal(i / 4.0, row[3].GetDouble());
            Assert.Equal(i % 2 == 0, row[4].GetBoolean());
            Assert.Equal($"2024-01-0{i + 1}", row[5].GetString());
            Assert.Equal((i * 1.25m).ToString("0.00", CultureInfo.InvariantCulture), row[6].GetString());
        }

        var meta = Map(report.GetProperty("meta"));
        Assert.False(meta.ContainsKey("error"), meta.GetValueOrDefault("error"));
        Assert.Equal("true", meta["verified"]);
        Assert.Equal("false", meta["executed_locally"]);
        Assert.Equal("2", meta["quorum"]);
        Assert.True(int.Parse(meta["agreement"]!, CultureInfo.InvariantCulture) >= 2, $"agreement {meta["agreement"]}");
        Assert.Contains(meta["winner"], Grid.NodeIds);
        Assert.Equal("1", meta["result_rows"]);
        Assert.Equal("with_commit", meta["rows_delivery"]); // protocol 1.1: the winner's rows came with its commit
        AssertCertificate(meta.GetValueOrDefault("certificate"), meta["job_id"]);

        // Seven more verified remote queries whose answers the script checked; each took a measurable time.
        var timed = report.GetProperty("timedMs").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(7, timed.Count);
        Assert.All(timed, t => Assert.True(t > 0));
        Assert.Superset(Grid.NodeIds.ToHashSet(), report.GetProperty("peers").EnumerateArray().Select(e => e.GetString()!).ToHashSet());
    }

    [Fact]
    public void A_C_program_on_the_C_API_joins_the_same_grid_and_gets_a_verified_remote_answer()
    {
        var program = CApiClient.EnsureBuilt();
        var result = WithConfigDirectory(dir => ProcessRunner.Run(program, [fixture.ExtensionPath, Grid.Seed, "3"], ExtensionBuild.RepoRoot,
            new Dictionary<string, string?> { ["P2P_CONFIG_DIR"] = dir }, TimeSpan.FromMinutes(2)));
        Assert.True(result.ExitCode == 0, $"{result}\n--- grid up stderr\n{Grid.Stderr}");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string? One(string key) => lines.Where(l => l.StartsWith(key + "=", StringComparison.Ordinal)).Select(l => l[(key.Length + 1)..]).SingleOrDefault();

        Assert.Equal("3", One("peers_live"));
        // duckdb_type: INTEGER 4, VARCHAR 17.
        Assert.Equal(["i:4", "label:17"], lines.Where(l => l.StartsWith("column=", StringComparison.Ordinal)).Select(l => l["column=".Length..]));
        Assert.Equal(["0|row-0", "1|row-1", "2|row-2", "3|row-3"], lines.Where(l => l.StartsWith("row=", StringComparison.Ordinal)).Select(l => l["row=".Length..]));
        Assert.Equal("true", One("meta.verified"));
        Assert.Equal("false", One("meta.executed_locally"));
        Assert.True(int.Parse(One("meta.agreement")!, CultureInfo.InvariantCulture) >= 2);
        Assert.Null(One("meta.error"));
        AssertCertificate(One("meta.certificate"), One("meta.job_id"));
        Assert.Equal("1", One("done"));
    }
}

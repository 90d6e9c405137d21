using System.Text.Json;

namespace Duckton.Extension.Tests;

/// <summary>The file loaded into the DuckDB Node client (@duckdb/node-api 1.5.6-r.1), as any DuckDB user would.</summary>
[Collection(ExtensionCollection.Name)]
public class NodeClientTests(ExtensionFixture fixture)
{
    private JsonElement Report => fixture.NodeScenario.Report;

    private static Dictionary<string, string?> Map(JsonElement obj) =>
        obj.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.ToString());

    [Fact]
    public void p2p_info_lists_the_protocol()
    {
        var info = Map(Report.GetProperty("info"));
        Assert.Equal("duckdb-p2p", info["protocol_name"]);
        Assert.Equal("1.1.0", info["protocol_version"]);
        Assert.Equal("1.0.0", info["min_supported_version"]);
        Assert.Equal("1", info["schema_version"]);
        Assert.Equal("duckdb-p2p/1", info["alpn"]);
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", info["extension_version"]); // the build's one version (a pre-release between tags)
    }

    [Fact]
    public void p2p_query_answers_42_as_an_INTEGER_column()
    {
        var answer = Report.GetProperty("answer");
        Assert.Equal(["answer"], answer.GetProperty("names").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["INTEGER"], answer.GetProperty("types").EnumerateArray().Select(e => e.GetString()));
        // DUCKDB_TYPE_INTEGER in the C API's duckdb_type enum, as the Node client reports it.
        Assert.Equal([4], answer.GetProperty("typeIds").EnumerateArray().Select(e => e.GetInt32()));
        var rows = answer.GetProperty("rows");
        Assert.Equal(1, rows.GetArrayLength());
        Assert.Equal(JsonValueKind.Number, rows[0][0].ValueKind);
        Assert.Equal(42, rows[0][0].GetInt32());
    }

    [Fact]
    public void p2p_query_meta_reports_a_verified_local_run()
    {
        var meta = Map(Report.GetProperty("meta"));
        Assert.Equal("true", meta["executed_locally"]);
        Assert.Equal("true", meta["verified"]);
        Assert.Equal("3", meta["result_rows"]);
        Assert.Matches("^[0-9a-f]{32}$", meta["job_id"]);
        foreach (var key in new[] { "agreement", "quorum", "winner", "participants", "receipts", "agreed_hash", "latency_ms", "observed_result_bytes" })
        {
            Assert.True(meta.ContainsKey(key), key);
        }
        Assert.False(meta.ContainsKey("error"));
    }

    [Fact]
    public void Local_queries_stream_from_the_clients_libduckdb_instead_of_materialising_first()
    {
        // The extension's API table has no streaming results; the Node client's libduckdb.so exports them, and the
        // extension takes them from it only after checking it is the same copy of DuckDB.
        Assert.Equal("streamed", Map(Report.GetProperty("status"))["local_results"]);
    }

    [Fact]
    public void Job_proofs_verify_offline_in_the_extension_and_a_tampered_one_fails()
    {
        var valid = Report.GetProperty("proofValid");
        Assert.True(valid.GetProperty("valid").GetBoolean(), valid.ToString());
        Assert.Equal(JsonValueKind.Null, valid.GetProperty("error").ValueKind);
        Assert.Equal(("job-1", "1", "UBIGINT"), (valid.GetProperty("job_id").GetString(), valid.GetProperty("epoch").GetString(), valid.GetProperty("epoch_type").GetString()));
        var tampered = Report.GetProperty("proofTampered");
        Assert.False(tampered.GetProperty("valid").GetBoolean());
        Assert.Equal("the stated leaf is not the hash of the record", tampered.GetProperty("error").GetString());
        Assert.Contains("p2p_job_proof: no job record for 'no-such-job'", Report.GetProperty("jobProofUnknown").GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, Report.GetProperty("epochs").GetInt32());
    }

    [Fact]
    public void A_bad_query_is_a_SQL_error_and_the_process_lives_on()
    {
        var error = Report.GetProperty("badQuery").GetProperty("error").GetString();
        Assert.NotNull(error);
        Assert.Contains("parser error", error, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("syntax error at or near \"SELEC\"", error, StringComparison.Ordinal);
        Assert.Equal(7, Report.GetProperty("afterError").GetInt32());
    }

    [Fact]
    public void Four_connections_query_concurrently_and_each_gets_its_own_answer()
    {
        var connections = Report.GetProperty("concurrent");
        Assert.Equal(4, connections.GetArrayLength());
        for (var k = 1; k <= 4; k++)
        {
            var rounds = connections[k - 1];
            Assert.Equal(5, rounds.GetArrayLength());
            for (var round = 0; round < 5; round++)
            {
                var r = rounds[round];
                long n = 50000 * k + round;
                Assert.Equal(n, r.GetProperty("n").GetInt64());
                Assert.Equal(n, r.GetProperty("count").GetInt64());
                Assert.Equal((n * (n - 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), r.GetProperty("sum").GetString());
            }
        }
    }

    [Fact]
    public void A_second_database_in_the_process_loads_the_same_file()
    {
        Assert.Equal("second", Report.GetProperty("secondDatabase").GetString());
        var ext = Report.GetProperty("extension");
        Assert.True(ext.GetProperty("loaded").GetBoolean());
        Assert.Matches(@"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", ext.GetProperty("extension_version").GetString());
    }

    [Fact]
    public void The_Node_process_exits_by_itself_with_code_0()
    {
        var process = fixture.NodeScenario.Process;
        Assert.Equal(0, process.ExitCode);
        Assert.DoesNotContain("Unhandled", process.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("fail", process.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Node_exits_cleanly_while_the_engine_still_warms_up_in_the_background()
    {
        // Each run ends right after its first p2p_query, while the engine opens its warm instances on another thread.
        var runs = Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(3)
            .Select(_ => NodeClient.Run("quick_exit.cjs", fixture.ExtensionPath)).ToList();
        foreach (var r in runs)
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("answer=42", r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void p2p_pricing_and_p2p_bidding_show_set_type_and_refuse_in_the_Node_client()
    {
        var dir = Directory.CreateTempSubdirectory("duckton-ext-pricing-").FullName;
        try
        {
            var result = NodeClient.Run("pricing.cjs", [fixture.ExtensionPath], new Dictionary<string, string?> { ["P2P_CONFIG_DIR"] = dir });
            Assert.True(result.ExitCode == 0, result.ToString());
            var report = NodeClient.LastJsonLine(result);
            var before = report.GetProperty("before");
            Assert.Equal(["model", "unit_price_ton", "rate_per_second_nanoton", "quote_nanoton", "quote", "economics_enabled"],
                before.GetProperty("names").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["VARCHAR", "BIGINT", "BIGINT", "UBIGINT", "VARCHAR", "BOOLEAN"], before.GetProperty("types").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("metered", before.GetProperty("values")[0].GetString());
            Assert.False(before.GetProperty("values")[5].GetBoolean());
            var set = report.GetProperty("set").GetProperty("values");
            Assert.Equal(("fixed", "7", "7000000000", "7 TON per job"), (set[0].GetString(), set[1].GetString(), set[2].GetString(), set[3].GetString()));
            var bidding = report.GetProperty("bidding").GetProperty("values");
            Assert.Equal(("9", "9000000000", 0.4), (bidding[0].GetString(), bidding[1].GetString(), bidding[2].GetDouble()));
            Assert.Contains("p2p_pricing:", report.GetProperty("error").GetString());
            Assert.Equal("7", report.GetProperty("after").GetProperty("values")[0].GetString()); // the refused call changed nothing
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Node_exits_cleanly_after_hosting_with_p2p_share()
    {
        var dir = Directory.CreateTempSubdirectory("duckton-ext-host-").FullName;
        try
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var result = NodeClient.Run("host_exit.cjs", [fixture.ExtensionPath], new Dictionary<string, string?> { ["P2P_CONFIG_DIR"] = dir });
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Matches(@"status=hosting listen=127\.0\.0\.1:\d+", result.Stdout);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"exit took {started.Elapsed}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_failing_init_is_a_LOAD_error_that_names_the_cause_and_the_process_lives_on()
    {
        var result = NodeClient.Run("init_failure.cjs", [fixture.ExtensionPath], new Dictionary<string, string?> { ["DUCKTON_EXTENSION_FAIL_INIT"] = "1" });
        Assert.True(result.ExitCode == 0, result.ToString());
        var report = NodeClient.LastJsonLine(result);
        var error = report.GetProperty("error").GetString();
        Assert.NotNull(error);
        Assert.Contains("duckton could not register its functions", error, StringComparison.Ordinal);
        Assert.Contains("DUCKTON_EXTENSION_FAIL_INIT=1", error, StringComparison.Ordinal);
        Assert.Equal(2, report.GetProperty("after").GetInt32());
        Assert.False(report.GetProperty("p2pInfoExists").GetBoolean());
    }
    [Fact]
    public void The_clients_interrupt_cancels_a_long_p2p_query_and_timeout_ms_still_ends_one()
    {
        var dir = Directory.CreateTempSubdirectory("duckton-ext-interrupt-").FullName;
        try
        {
            var result = NodeClient.Run("interrupt.cjs", [fixture.ExtensionPath], new Dictionary<string, string?> { ["P2P_CONFIG_DIR"] = dir });
            Assert.True(result.ExitCode == 0, result.ToString());
            var report = NodeClient.LastJsonLine(result);
            foreach (var name in new[] { "query", "meta" })
            {
                var r = report.GetProperty(name);
                Assert.False(r.GetProperty("finishedEarly").GetBoolean(), $"{name}: the long statement ended before the interrupt");
                Assert.Contains("Interrupted", r.GetProperty("error").GetString(), StringComparison.Ordinal);
                // DuckDB's interrupt on the client's connection ends the statement within 1 s on an idle machine; this
                // one is shared, so allow a few (uncancelled, the statement runs for minutes).
                var ms = r.GetProperty("ms").GetDouble();
                Assert.True(ms < 4000, $"{name}: interrupt() to rejection took {ms:0} ms");
            }
            Assert.Equal(7, report.GetProperty("after").GetInt32());
            var timeout = report.GetProperty("timeout");
            Assert.Contains("timeout_ms => 500", timeout.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.True(timeout.GetProperty("ms").GetDouble() < 10000, timeout.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

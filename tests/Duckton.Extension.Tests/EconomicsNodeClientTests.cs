using System.Text.Json;

namespace Duckton.Extension.Tests;

/// <summary>The economics functions through the extension in the DuckDB Node client: typed output and clear errors.</summary>
[Collection(ExtensionCollection.Name)]
public class EconomicsNodeClientTests(ExtensionFixture fixture)
{
    [Fact]
    public void Economics_functions_show_typed_rows_and_clear_errors_in_the_Node_client()
    {
        var dir = Directory.CreateTempSubdirectory("duckton-ext-econ-").FullName;
        try
        {
            // Port 9 (discard) has no listener here; nothing in this script contacts the endpoint anyway.
            var result = NodeClient.Run("economics.cjs", [fixture.ExtensionPath, "http://127.0.0.1:9/api/v2"],
                new Dictionary<string, string?> { ["P2P_CONFIG_DIR"] = dir });
            Assert.True(result.ExitCode == 0, result.ToString());
            var report = NodeClient.LastJsonLine(result);

            var defaults = report.GetProperty("defaults");
            var names = defaults.GetProperty("names").EnumerateArray().Select(e => e.GetString()).ToList();
            var types = defaults.GetProperty("types").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.Equal("BOOLEAN", types[names.IndexOf("enabled")]);
            Assert.Equal("BIGINT", types[names.IndexOf("rpc_timeout_ms")]);
            Assert.Equal("VARCHAR", types[names.IndexOf("network")]);
            var row = defaults.GetProperty("rows")[0];
            Assert.False(row.GetProperty("enabled").GetBoolean());
            Assert.Equal("testnet", row.GetProperty("network").GetString());

            Assert.Contains("economics is off: SELECT * FROM p2p_economics(enabled => true)", report.GetProperty("offError").GetString(), StringComparison.Ordinal);

            var enabled = report.GetProperty("enabled").GetProperty("rows")[0];
            Assert.True(enabled.GetProperty("enabled").GetBoolean());
            Assert.Equal("local-emulator", enabled.GetProperty("network_name").GetString());
            Assert.Equal("http://127.0.0.1:9/api/v2", enabled.GetProperty("rpc").GetString());
            Assert.Equal("local-emulator", report.GetProperty("status").GetProperty("rows")[0].GetProperty("value").GetString());
            Assert.Contains("no wallet for local-emulator: SELECT * FROM p2p_wallet(generate => true)", report.GetProperty("noWallet").GetString(), StringComparison.Ordinal);
            Assert.Contains("add confirm_mainnet => true", report.GetProperty("mainnet").GetString(), StringComparison.Ordinal);
            // Persisted like every other setting: the runtime layer holds the switch.
            Assert.Contains("enabled = true", File.ReadAllText(Path.Combine(dir, "runtime.toml")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

namespace Duckton.Contracts.Tests;

/// <summary>
/// Each contracts/tests/*.test.js file under node's built-in test runner: the contracts in @ton/sandbox (fee legs to
/// the nanoton, every rejection exit code, the 7-day cooldown on the sandbox clock), the committed build outputs
/// against a fresh compile, and the local chain's HTTP API as a separate process. A failing node test fails this test
/// with the runner's output.
/// </summary>
public sealed class ContractTests
{
    [Theory]
    [InlineData("build.test.js")]
    [InlineData("escrow.test.js")]
    [InlineData("stake.test.js")]
    [InlineData("params.test.js")]
    [InlineData("anchor.test.js")]
    [InlineData("chain.test.js")]
    public void Node_contract_tests_pass(string file)
    {
        Contracts.EnsureInstalled();
        Assert.True(File.Exists(Path.Combine(Contracts.Directory, "tests", file)), file);
        var r = Contracts.Run("node", ["--test", "--test-reporter=spec", Path.Combine("tests", file)], TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, $"node --test tests/{file} failed (exit {r.ExitCode}):\n{r.Stdout}\n{r.Stderr}");
        Assert.Contains("pass", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("✖", r.Stdout, StringComparison.Ordinal);
    }
}

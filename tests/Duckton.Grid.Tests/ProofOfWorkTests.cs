namespace Duckton.Grid.Tests;

/// <summary>
/// <c>sybil.pow_difficulty_bits</c> with real processes: a host mints its identity stamp with the bits it is configured
/// for, and a requester learns only hosts whose stamp has at least the bits it requires.
/// </summary>
public sealed class ProofOfWorkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-pow-").FullName;

    [Fact]
    public void A_requester_learns_only_hosts_whose_stamp_meets_its_difficulty()
    {
        using var host = HostProcess.Start(_root, "host", new Dictionary<string, string> { ["P2P_POW_DIFFICULTY_BITS"] = "18" });
        using (var strict = new Requester(_root, "strict", ("sybil.pow_difficulty_bits", "20")))
        {
            var refused = Assert.ThrowsAny<Exception>(() => strict.JoinAndLearn(host.Address, 1, TimeSpan.FromSeconds(4)));
            Assert.Contains("knows 0 of 1", refused.Message);
        }
        using var matching = new Requester(_root, "matching", ("sybil.pow_difficulty_bits", "18"));
        matching.JoinAndLearn(host.Address, 1);
        var meta = matching.Meta("'SELECT 42 AS answer'", ", prefer => 'remote', replicas => 1, quorum => 1");
        Assert.False(meta.ContainsKey("error"), meta.GetValueOrDefault("error"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

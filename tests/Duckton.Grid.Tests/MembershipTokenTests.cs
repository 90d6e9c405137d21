using System.Diagnostics;
using Duckton.Core.Crypto;
using Duckton.Core.Protocol;
using Duckton.Transport;

namespace Duckton.Grid.Tests;

/// <summary>
/// Four real host processes that all declare group "g" and region "eu"; only one holds valid tokens (issued with the
/// real `duckton token keygen` / `duckton token issue` commands). The others hold a forged token (signed by another key
/// but naming the trusted issuer), an expired one, and a valid token issued to another node. Tokens are installed in
/// each host's config.toml as an operator would.
/// </summary>
public sealed class MembershipTokenFixture : IDisposable
{
    public MembershipTokenFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-token-tests-").FullName;
        var keyFile = Path.Combine(Root, "issuer.key");
        IssuerPublicKey = Cli("token", "keygen", "--key", keyFile).Trim();
        using var issuer = Ed25519Key.FromSeed(Convert.FromHexString(File.ReadAllText(keyFile).Trim()));
        using var forger = Ed25519Key.Generate();

        var ids = new[] { "valid", "forged", "expired", "stolen" }.ToDictionary(n => n, PrepareIdentity);
        var now = DateTimeOffset.UtcNow;
        var validGroup = Cli("token", "issue", "--kind", "group", "--value", "g", "--node", ids["valid"], "--key", keyFile, "--days", "2").Trim();
        var validRegion = Cli("token", "issue", "--kind", "region", "--value", "eu", "--node", ids["valid"], "--key", keyFile).Trim();
        // Forged: names the trusted issuer's key but is signed by another one.
        var unsigned = new MembershipToken(MembershipKind.Group, ids["forged"], "g", (ulong)now.ToUnixTimeMilliseconds(), (ulong)now.AddDays(1).ToUnixTimeMilliseconds(), issuer.PublicKey.ToArray());
        var forged = (unsigned with { Signature = forger.Sign(unsigned.SignedBytes()) }).ToText();
        var expired = MembershipToken.Issue(issuer, MembershipKind.Group, ids["expired"], "g", now.AddDays(-3), now.AddDays(-1)).ToText();
        var expiredRegion = MembershipToken.Issue(issuer, MembershipKind.Region, ids["expired"], "eu", now.AddDays(-3), now.AddDays(-1)).ToText();

        Valid = Start("valid", validGroup, validRegion);
        var seed = new[] { "--seed", Valid.Address };
        Forged = Start("forged", forged, "", seed);
        Expired = Start("expired", expired, expiredRegion, seed);
        // A genuine token, copied from the valid host: issued to another node.
        Stolen = Start("stolen", validGroup, validRegion, seed);
        Assert.Equal(ids["valid"], Valid.NodeId);
        Assert.Equal(ids["stolen"], Stolen.NodeId);
        Requester = new Requester(Root, "requester", ("scheduler.offer_timeout_ms", "10000"));
        Requester.JoinAndLearn(Valid.Address, 4);
    }

    /// <summary>Writes the host's node key before it starts, so its tokens can be issued to its node id.</summary>
    private string PrepareIdentity(string name)
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        using var key = Ed25519Key.Generate();
        File.WriteAllText(Path.Combine(dir, NodeIdentity.KeyFileName), Convert.ToHexStringLower(key.Seed) + "\n");
        File.SetUnixFileMode(Path.Combine(dir, NodeIdentity.KeyFileName), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return NodeIdentity.NodeIdOf(key.PublicKey);
    }

    private HostProcess Start(string name, string groupToken, string regionToken, params string[] extra)
    {
        File.WriteAllText(Path.Combine(Root, name, "config.toml"),
            $"[membership]\nregion = \"eu\"\ngroups = [\"g\"]\ngroup_token = \"{groupToken}\"\nregion_token = \"{regionToken}\"\n");
        return HostProcess.Start(Root, name, extra);
    }

    /// <summary>Runs the real CLI; its stdout (fails the fixture on a non-zero exit).</summary>
    public static string Cli(params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);
        Assert.True(exit == 0, $"duckton {string.Join(' ', args)} exited {exit}: {stderr}");
        return stdout;
    }

    /// <summary>Runs the real CLI: its exit code, stdout and stderr.</summary>
    public static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "duckton.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }

    public string Root { get; }
    public string IssuerPublicKey { get; }
    public HostProcess Valid { get; }
    public HostProcess Forged { get; }
    public HostProcess Expired { get; }
    public HostProcess Stolen { get; }
    public Requester Requester { get; }

    public void Dispose() => FixtureTeardown.Run(Requester, [Valid, Forged, Expired, Stolen], Root);
}

public sealed class MembershipTokenTests(MembershipTokenFixture grid) : IClassFixture<MembershipTokenFixture>
{
    private IReadOnlyList<string> Hosts(string options, int quorum)
    {
        var meta = grid.Requester.Meta("'SELECT 42 AS answer'", $", prefer => 'remote', replicas => 4, quorum => {quorum}" + options);
        Assert.False(meta.ContainsKey("error"), meta.GetValueOrDefault("error"));
        var check = CommitCertificate.Verify(meta["certificate"]!, quorum);
        Assert.True(check.Valid, check.Error);
        return [.. check.Hosts.Distinct().Order(StringComparer.Ordinal)];
    }

    private string Fails(string options) =>
        Assert.ThrowsAny<Exception>(() => grid.Requester.Rows("SELECT * FROM p2p_query('SELECT 42 AS answer', prefer => 'remote'" + options + ")")).Message;

    /// <summary>Runs <paramref name="body"/> with runtime settings on the requester, then restores its configuration.</summary>
    private void With((string Key, string Value)[] settings, Action body)
    {
        foreach (var (k, v) in settings)
        {
            grid.Requester.Rows($"SELECT * FROM p2p_set('{k}', '{v}')");
        }
        try
        {
            body();
        }
        finally
        {
            grid.Requester.Rows("SELECT * FROM p2p_config_reset()");
            grid.Requester.Host.Config.Set("scheduler.offer_timeout_ms", "10000");
        }
    }

    private (string, string)[] Issuers(string enforcement = "soft", string regionTrust = "declared") =>
    [
        ("membership.group_issuers", $"[\"g={grid.IssuerPublicKey}\"]"),
        ("membership.region_issuers", $"[\"eu={grid.IssuerPublicKey}\"]"),
        ("membership.group_enforcement", enforcement),
        ("membership.region_trust", regionTrust),
    ];

    [Fact]
    public void Soft_enforcement_trusts_every_declared_group()
    {
        var all = new[] { grid.Valid, grid.Forged, grid.Expired, grid.Stolen }.Select(h => h.NodeId).Order(StringComparer.Ordinal);
        Assert.Equal(all, Hosts(", groups => ['g']", 4));
    }

    [Fact]
    public void Token_enforcement_routes_groups_only_to_the_host_with_a_valid_token()
    {
        With(Issuers("token"), () =>
        {
            Assert.Equal([grid.Valid.NodeId], Hosts(", groups => ['g']", 1));
            // Quorum 2 cannot be met: the error names why each other host's token was refused.
            var e = Fails(", groups => ['g'], quorum => 2");
            Assert.Contains("groups => ['g'] excluded 3 host(s)", e);
            Assert.Contains("bad token signature", e);
            Assert.Contains("token expired", e);
            Assert.Contains("token was issued to another node", e);
        });
        // Enforcement without an issuer for the group: nobody is verified, so nobody matches.
        With([("membership.group_enforcement", "token")], () =>
            Assert.Contains("no issuer for 'g' in membership.group_issuers", Fails(", groups => ['g']")));
    }

    [Fact]
    public void A_region_with_issuers_routes_only_to_hosts_with_a_valid_region_token_and_attested_needs_L1()
    {
        With(Issuers(), () => Assert.Equal([grid.Valid.NodeId], Hosts(", regions => ['eu']", 1)));
        // Declared regions without issuers: every host in eu matches.
        Assert.Equal(4, Hosts(", regions => ['eu']", 4).Count);
        // region_trust = attested: these hosts claim L0, so no region constraint can be met.
        With(Issuers(regionTrust: "attested"), () =>
            Assert.Contains("without attestation ≥ L1 (region_trust = attested)", Fails(", regions => ['eu']")));
    }

    [Fact]
    public void P2p_peers_shows_verified_and_self_declared_memberships()
    {
        Dictionary<string, (string Groups, string Verified, string Region)> Peers() =>
            grid.Requester.Rows("SELECT node_id, array_to_string(groups, ','), array_to_string(verified_groups, ','), region_verified::VARCHAR FROM p2p_peers() WHERE live")
                .ToDictionary(r => r[0]!, r => (r[1]!, r[2]!, r[3]!));
        // No issuers configured: every membership is self-declared.
        Assert.All(Peers().Values, p => Assert.Equal(("g", "", "false"), p));
        With(Issuers(), () =>
        {
            var peers = Peers();
            Assert.Equal(("g", "g", "true"), peers[grid.Valid.NodeId]);
            foreach (var h in new[] { grid.Forged, grid.Expired, grid.Stolen })
            {
                Assert.Equal(("g", "", "false"), peers[h.NodeId]);
            }
        });
    }

    [Fact]
    public void The_token_cli_refuses_bad_input_and_never_overwrites_a_key()
    {
        var key = Path.Combine(grid.Root, "issuer.key");
        var before = File.ReadAllText(key);
        var again = MembershipTokenFixture.Run("token", "keygen", "--key", key);
        Assert.Equal(2, again.Exit);
        Assert.Contains("already exists", again.Stderr);
        Assert.Equal(before, File.ReadAllText(key));
        var badNode = MembershipTokenFixture.Run("token", "issue", "--kind", "group", "--value", "g", "--node", "node-1", "--key", key);
        Assert.Equal(2, badNode.Exit);
        Assert.Contains("is not a node id", badNode.Stderr);
        var badDays = MembershipTokenFixture.Run("token", "issue", "--kind", "group", "--value", "g", "--node", grid.Valid.NodeId, "--key", key, "--days", "0");
        Assert.Equal(2, badDays.Exit);
        Assert.Contains("--days", badDays.Stderr);
        var ok = MembershipTokenFixture.Run("token", "issue", "--kind", "region", "--value", "eu", "--node", grid.Valid.NodeId, "--key", key, "--days", "7");
        Assert.Equal(0, ok.Exit);
        var token = MembershipToken.Parse(ok.Stdout);
        Assert.Equal((MembershipKind.Region, "eu", grid.Valid.NodeId, grid.IssuerPublicKey), (token.Kind, token.Value, token.NodeId, Convert.ToHexStringLower(token.IssuerKey)));
        Assert.InRange(token.ExpiresMs - token.IssuedMs, 7UL * 86_400_000, 7UL * 86_400_000);
        Assert.Contains($"eu={grid.IssuerPublicKey}", ok.Stderr);
    }

    [Fact]
    public void Installed_tokens_are_secret_and_malformed_ones_are_refused()
    {
        using var issuer = Ed25519Key.Generate();
        var token = MembershipToken.Issue(issuer, MembershipKind.Group, grid.Requester.Host.Node.NodeId, "g", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1)).ToText();
        With([("membership.group_token", token)], () =>
        {
            var shown = string.Join("\n", grid.Requester.Rows("SELECT value FROM p2p_config() WHERE \"group\" = 'membership'").Select(r => r[0]));
            Assert.DoesNotContain(token[..24], shown);
            Assert.Contains("<redacted>", shown);
        });
        var e = Assert.ThrowsAny<Exception>(() => grid.Requester.Rows("SELECT * FROM p2p_set('membership.group_token', 'dkt1.notatoken')")).Message;
        Assert.Contains("membership.group_token", e);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Contracts;

namespace Duckton.Ton.Tests;

/// <summary>
/// Our contract message builders against contracts/scripts/vectors.js (the contracts' own @ton/core builders, which
/// their sandbox tests use): deploy data, addresses, every message body and a Merkle tree must be byte-identical.
/// </summary>
public class ContractVectorTests
{
    private static readonly Lazy<JsonDocument> s_vectors = new(Load);

    private static JsonElement V => s_vectors.Value.RootElement;

    private static JsonDocument Load()
    {
        var contracts = Path.GetFullPath(Path.Combine(GoldenVectors.ScriptDirectory, "..", "..", "..", "contracts"));
        Run("bash", [Path.Combine(contracts, "scripts", "install-deps.sh")], contracts);
        return JsonDocument.Parse(Run("node", [Path.Combine(contracts, "scripts", "vectors.js")], contracts));
    }

    private static string Run(string file, string[] args, string dir)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish");
        }
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    private static TonAddress A(char c) => TonAddress.Parse("0:" + new string(c, 64));

    private static byte[] U256(BigInteger v) => v.ToByteArray(isUnsigned: true, isBigEndian: true) is var b && b.Length <= 32
        ? [.. new byte[32 - b.Length], .. b]
        : throw new ArgumentOutOfRangeException(nameof(v));

    private static Coins Ton(long ton) => Coins.FromNanoton(ton * Coins.NanotonPerTon);

    private static void Same(string name, Cell cell)
    {
        var v = V.GetProperty(name);
        Assert.True(v.GetProperty("hash").GetString() == cell.HashHex, $"{name}: hash differs");
        Assert.Equal(v.GetProperty("boc").GetString(), BagOfCells.SerializeBase64(cell));
    }

    private static (TonAddress Requester, TonAddress Arbiter, TonAddress Treasury, TonAddress Winner, TonAddress V1, TonAddress V2) Parties =>
        (A('1'), A('2'), A('3'), A('4'), A('5'), A('6'));

    [Fact]
    public void Job_escrow_data_address_and_bodies_equal_the_contract_tests_builders()
    {
        var p = Parties;
        var candidates = new[] { p.Winner, p.V1, p.V2 };
        Same("candidates_cell", JobEscrow.CandidatesCell(candidates));
        var expected = U256(0xabcdef0123456789);
        var config = new JobEscrowConfig(p.Requester, p.Arbiter, Ton(100), 1_800_000_600,
            new EscrowTerms(p.Treasury, expected, JobEscrow.CandidatesHash(candidates), 3, 1500, 500));
        Same("escrow_terms", JobEscrow.InitialData(config).Refs[0]);
        Same("escrow_data", JobEscrow.InitialData(config));
        Assert.Equal(V.GetProperty("escrow_address").GetProperty("raw").GetString(), JobEscrow.Address(config).ToRaw());
        Same("escrow_settle", JobEscrow.Settle(expected, p.Winner, Ton(80), Ton(80), Ton(12),
            new Dictionary<TonAddress, Coins> { [p.V1] = Ton(4), [p.V2] = Ton(4) }, candidates, queryId: 7));
        Same("escrow_topup", JobEscrow.TopUp(1));
        Same("escrow_refund", JobEscrow.Refund(2));
        Same("escrow_claim", JobEscrow.Claim(p.V2, 3));
    }

    [Fact]
    public void Stake_vault_data_address_and_bodies_equal_the_contract_tests_builders()
    {
        var p = Parties;
        var config = new VaultConfig(Ton(100), 604_800, p.Arbiter, new SlashSplit(p.Treasury, p.V1, 4000, 3000, 2000, 1000));
        Same("vault_data", StakeVault.InitialData(p.Requester, config));
        Assert.Equal(V.GetProperty("vault_address").GetProperty("raw").GetString(), StakeVault.StateInit(p.Requester, config).Address().ToRaw());
        Same("stake_deposit", StakeVault.Deposit(Ton(150), 1));
        Same("stake_request_unbond", StakeVault.RequestUnbond(Ton(60), 2));
        Same("stake_withdraw", StakeVault.Withdraw(3));
        Same("stake_slash", StakeVault.Slash(Coins.FromNanoton(70 * Coins.NanotonPerTon + 7), 1, p.V2, 4));
    }

    [Fact]
    public void Global_params_data_address_and_update_equal_the_contract_tests_builders()
    {
        var p = Parties;
        var inputs = V.GetProperty("eco_params").GetProperty("inputs");
        var eco = new EcoParams(MinStake: Coins.FromNanoton(BigInteger.Parse(inputs.GetProperty("minStake").GetString()!, CultureInfo.InvariantCulture)),
            UnbondingSecs: inputs.GetProperty("unbondingSecs").GetUInt32(), ChallengeWindowSecs: inputs.GetProperty("challengeWindowSecs").GetUInt32());
        Same("eco_params", eco.ToCell());
        Same("params_data", GlobalParams.InitialData(p.Requester, p.Treasury, eco));
        Assert.Equal(V.GetProperty("params_address").GetProperty("raw").GetString(), GlobalParams.StateInit(p.Requester, p.Treasury, eco).Address().ToRaw());
        Same("update_params", GlobalParams.UpdateParams(p.Treasury, eco, 5));
    }

    [Fact]
    public void Record_anchor_data_merkle_tree_and_bodies_equal_the_contract_tests_builders()
    {
        var p = Parties;
        var config = new AnchorConfig(Ton(10), Ton(1), p.Requester, p.Arbiter, p.Treasury);
        Same("anchor_data", RecordAnchor.InitialData(config));
        Assert.Equal(V.GetProperty("anchor_address").GetProperty("raw").GetString(), RecordAnchor.StateInit(config).Address().ToRaw());
        var merkle = V.GetProperty("merkle");
        var leaves = merkle.GetProperty("leaves").EnumerateArray().Select(l => U256(BigInteger.Parse(l.GetString()!, CultureInfo.InvariantCulture))).ToArray();
        for (var i = 0; i < leaves.Length; i++)
        {
            var (root, proof) = RecordAnchor.Tree(leaves, i);
            Assert.Equal(merkle.GetProperty("root").GetString(), Convert.ToHexStringLower(root));
            var expected = merkle.GetProperty("proofs")[i].EnumerateArray()
                .Select(s => (s.GetProperty("siblingIsLeft").GetBoolean(), s.GetProperty("sibling").GetString())).ToArray();
            Assert.Equal(expected, proof.Select(s => (s.SiblingIsLeft, (string?)Convert.ToHexStringLower(s.Sibling))).ToArray());
        }
        // The node's record tree hashes exactly the cells the contract hashes.
        foreach (var leaf in leaves)
        {
            Assert.Equal(RecordAnchor.LeafNode(leaf), Duckton.Core.Records.RecordTree.LeafNode(leaf));
        }
        Assert.Equal(RecordAnchor.InteriorNode(leaves[0], leaves[1]), Duckton.Core.Records.RecordTree.InteriorNode(leaves[0], leaves[1]));
        var (r, proof2) = RecordAnchor.Tree(leaves, 2);
        Same("anchor_submit_root", RecordAnchor.SubmitRoot(1, r, new byte[32], Ton(10), 6));
        Same("anchor_open_dispute", RecordAnchor.OpenDispute(1, leaves[2], proof2, 7));
        Same("anchor_resolve_dispute", RecordAnchor.ResolveDispute(0, true, 8));
    }
}

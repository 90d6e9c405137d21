using Duckton.Core.Configuration;
using Duckton.Core.Crypto;
using Duckton.Core.Protocol;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Node.Economics;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;
using Duckton.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Ton.Tests.EndToEnd;

/// <summary>
/// A host stakes in its own StakeVault on `duckton chain up` (the vault owned by the wallet v5r1 of the host's node key),
/// and the requester's trust engine — reading that vault through <see cref="ChainStakeSource"/> — sees its stake term rise.
/// </summary>
public sealed class StakeInTrustTests(LocalChain chain) : IClassFixture<LocalChain>
{
    private sealed class NoCanaries : IKnownAnswers
    {
        public string ExpectedHash(string sql) => throw new InvalidOperationException("no canaries here");
    }

    [Fact]
    public async Task A_host_stakes_3400_TON_and_its_trust_stake_term_rises_to_0_71()
    {
        DuckDBNative.InitializeFromLibrary();
        var dir = Directory.CreateTempSubdirectory("duckton-stake-e2e-").FullName;
        try
        {
            // The host: a node key, and the wallet of that key (funded by the emulator's faucet, deployed by its first request).
            var hostKey = Ed25519Key.Generate();
            var wallet = new TonWallet(chain.Client, new WalletV5R1(hostKey.PublicKey), hostKey);
            await chain.FundAsync(wallet.Address, Coins.FromTon(3500));
            await chain.SendAsync(wallet);
            var slasher = await chain.NewWalletAsync(1);
            var treasury = await chain.NewWalletAsync(1);
            var config = new VaultConfig(Coins.FromTon(1), VaultConfig.SevenDays, slasher.Address, new SlashSplit(treasury.Address, treasury.Address));
            var resolver = new DerivedVaultAddresses(config, TonNetworkId.Mainnet);
            var advert = new AdvertMessage(hostKey.PublicKey.ToArray(), "127.0.0.1:1", 1 << 30, 2, 2, 0, true, ["default"], [], "", 0, 0,
                (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1);
            var peer = new PeerEntry(advert, DateTimeOffset.UtcNow);
            var vault = StakeVault.StateInit(wallet.Address, config).Address();
            Assert.Equal(vault, resolver.VaultOf(peer.NodeId, hostKey.PublicKey));

            // The requester: economics on, a stake source on the chain, re-read every second.
            using var store = TrustStore.Open(dir, null, TimeProvider.System);
            using var requester = NodeIdentity.Create();
            var c = NodeConfig.Defaults with { Economics = NodeConfig.Defaults.Economics with { Enabled = true }, Trust = NodeConfig.Defaults.Trust with { MinTrust = 0 } };
            var source = new ChainStakeSource(chain.Client, resolver);
            var engine = new TrustEngine(() => store, requester, () => c, new NoCanaries(), TimeProvider.System, NullLogger.Instance)
            {
                Stakes = new StakeBook(() => source, () => TimeSpan.FromSeconds(1), TimeProvider.System, NullLogger.Instance),
            };
            engine.Stakes.Warm([(peer.NodeId, peer.Advert.PublicKey)], TimeSpan.FromSeconds(30));
            var before = engine.Assess(peer, c, QueryOverrides.None);
            Assert.Equal(0, before.StakeTon); // no vault deployed yet: stake 0, read from the chain (not unknown)
            Assert.Equal(0, before.Trust.Stake);
            var requireStake = c with { Scheduler = c.Scheduler with { RequireStakedHosts = true } };
            Assert.Equal(Standing.BelowStake, engine.Assess(peer, requireStake, QueryOverrides.None).Standing);

            // The host deploys its vault and stakes 3400 TON (value = amount + the 0.05 TON gas floor).
            await chain.SendAsync(wallet, new OutMessage(vault, Coins.FromTon(0.2m), Bounce: false, Body: StakeVault.TopUp(), Init: StakeVault.StateInit(wallet.Address, config)));
            await chain.SendAsync(wallet, new OutMessage(vault, Coins.FromTon(3400.05m), Body: StakeVault.Deposit(Coins.FromTon(3400))));
            Assert.Equal(Coins.FromTon(3400), StakeVault.ParseState(await chain.Client.RunGetMethodAsync(vault, "get_vault_state")).Staked);

            // The cached reading is refreshed on its schedule; the next assessments see the stake.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            HostAssessment after;
            do
            {
                await Task.Delay(500);
                after = engine.Assess(peer, c, QueryOverrides.None);
            }
            while (after.StakeTon != 3400 && DateTime.UtcNow < deadline);
            Assert.Equal(3400, after.StakeTon);
            Assert.Equal(0.71, after.Trust.Stake, 0.005);
            Assert.Equal(before.Trust.Effective + (0.1 * after.Trust.Stake), after.Trust.Effective, 1e-9);
            Assert.NotEqual(Standing.BelowStake, engine.Assess(peer, requireStake, QueryOverrides.None).Standing);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

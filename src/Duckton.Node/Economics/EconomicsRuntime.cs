using System.Numerics;
using Duckton.Core.Configuration;
using Duckton.Ton;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Economics;

/// <summary>One contract this node uses: where it is, its code hash, and whether this call deployed it.</summary>
public sealed record ContractStatus(string Contract, string? Address, string CodeHash, string State, bool CodeMatches, bool DeployedNow, string? Transaction);

/// <summary>This node's stake as its vault reports it, with what the call did.</summary>
public sealed record VaultOperation(TonAddress Vault, VaultState State, string Action, TonTransaction? WalletTransaction, TonTransaction? VaultTransaction, Coins Sent);

/// <summary>
/// The node's link to TON, built only when economics is enabled: the chain client, the node's wallet and the addresses
/// of the contracts it uses. Every chain call goes through Duckton.Ton; every failure becomes an
/// <see cref="EconomicsException"/> that says what to do. Created by <see cref="EconomicsHost"/>; nothing here
/// connects anywhere until a method is called.
/// </summary>
public sealed class EconomicsRuntime : IDisposable
{
    /// <summary>Value sent with a singleton's deploy (its storage rent buffer).</summary>
    public static readonly Coins SingletonDeployValue = Coins.FromTon(0.1m);

    /// <summary>Value sent with an unbond or withdraw request (compute gas; the rest stays in the vault as its buffer).</summary>
    public static readonly Coins VaultRequestValue = Coins.FromTon(0.05m);

    /// <summary>Dispute bond floor of the RecordAnchor this node deploys on the local chain.</summary>
    public static readonly Coins AnchorDisputeBond = Coins.FromTon(1m);

    private readonly Lazy<ToncenterClient> _client;
    private readonly Lazy<HttpClient> _localHttp;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<IReadOnlyList<KeyValuePair<string, string>>> _persist;

    /// <param name="settings">The resolved settings of the selected network.</param>
    /// <param name="configDirectory">The node's configuration directory (the wallet file is kept there).</param>
    /// <param name="persist">Stores configuration keys this runtime learns (wallet, contract addresses) in the node's config.</param>
    public EconomicsRuntime(EconomicsSettings settings, string configDirectory, Action<IReadOnlyList<KeyValuePair<string, string>>> persist,
        TimeProvider? time = null, ILogger? logger = null)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        ConfigDirectory = configDirectory;
        _persist = persist ?? throw new ArgumentNullException(nameof(persist));
        _time = time ?? TimeProvider.System;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        // Two tries of rpc_timeout each: a down or silent endpoint is reported within a bounded time.
        _client = new Lazy<ToncenterClient>(() => new ToncenterClient(new ToncenterOptions(settings.Rpc, settings.ApiKey, MaxAttempts: 2,
            InitialBackoff: TimeSpan.FromMilliseconds(200), MaxBackoff: TimeSpan.FromSeconds(1), RequestTimeout: settings.RpcTimeout), time: _time, logger: _logger));
        _localHttp = new Lazy<HttpClient>(() => new HttpClient { Timeout = settings.RpcTimeout });
    }

    /// <summary>The settings in force (refreshed by the host when addresses are learnt or changed).</summary>
    public EconomicsSettings Settings { get; internal set; }

    public string ConfigDirectory { get; }

    /// <summary>The chain client (constructed on first use).</summary>
    public ToncenterClient Client => _client.Value;

    /// <summary>True once the chain client exists (tests check that economics off never builds one).</summary>
    public bool ClientConstructed => _client.IsValueCreated;

    /// <summary>The network's global id stamped into wallet ids.</summary>
    public int NetworkGlobalId => Settings.Network == TonNetwork.Testnet ? TonNetworkId.Testnet : TonNetworkId.Mainnet;

    /// <summary>How an address is shown on this network (user-friendly, non-bounceable, test flag off mainnet).</summary>
    public string Show(TonAddress address, bool bounceable = false) =>
        address.ToFriendly(bounceable: bounceable, testnet: Settings.Network != TonNetwork.Mainnet);

    // ---------------------------------------------------------------- wallet

    /// <summary>The node's wallet, or null when none is configured for this network.</summary>
    public TonWallet? TryWallet()
    {
        if (Settings.MnemonicFile.Length == 0)
        {
            return null;
        }
        var key = UsesNodeKey(Settings.MnemonicFile) ? ReadNodeKey(Settings.MnemonicFile) : WalletFile.Key(Settings.MnemonicFile);
        // Every wallet object of this node shares one send turn: process-wide by address, and across the processes
        // sharing this config directory (host, shells) by a lock file there.
        return new TonWallet(Client, new WalletV5R1(key.PublicKey, 0, NetworkGlobalId), key, _time, ConfigDirectory, _logger);
    }

    /// <summary>The node's wallet; a clear error when there is none.</summary>
    public TonWallet Wallet() => TryWallet() ?? throw new EconomicsException(
        $"no wallet for {Settings.NetworkName}: SELECT * FROM p2p_wallet(generate => true) (or import => '/path/to/mnemonic.txt')");

    /// <summary>The address a mnemonic gives on this network (no chain access).</summary>
    public TonAddress AddressOf(IReadOnlyList<string> words)
    {
        var key = Duckton.Ton.Mnemonics.TonMnemonic.ToKey(words);
        return new WalletV5R1(key.PublicKey, 0, NetworkGlobalId).Address;
    }

    /// <summary>
    /// True when the wallet key is the node's own identity key (<c>mnemonic_file</c> names the node's <c>node_key</c>): its
    /// stake vault is then the one every peer derives from its node id, so its stake counts in their trust and selection.
    /// </summary>
    public static bool UsesNodeKey(string walletFile) =>
        string.Equals(Path.GetFileName(walletFile), Duckton.Transport.NodeIdentity.KeyFileName, StringComparison.Ordinal);

    private static Duckton.Core.Crypto.Ed25519Key ReadNodeKey(string path)
    {
        try
        {
            return Duckton.Transport.NodeIdentity.ReadKey(path);
        }
        catch (Duckton.Transport.NodeIdentityException e)
        {
            throw new EconomicsException("the wallet is the node key, which is unusable: " + e.Message, e);
        }
    }

    /// <summary>
    /// Makes the node's identity key (<c>&lt;config dir&gt;/node_key</c>, created if missing) its wallet key on this network:
    /// no second secret, and its stake vault is where peers look for it.
    /// </summary>
    public TonAddress UseNodeKeyAsWallet()
    {
        if (Settings.MnemonicFile.Length > 0 && File.Exists(Settings.MnemonicFile))
        {
            throw new EconomicsException($"this node already has a {Settings.NetworkName} wallet ({Settings.WalletAddress}); it is kept: "
                + $"unset economics.{Settings.Network.ToConfigString()}.wallet.mnemonic_file first to use another one");
        }
        using var identity = Duckton.Transport.NodeIdentity.LoadOrCreate(ConfigDirectory);
        var address = new WalletV5R1(identity.PublicKey.Span, 0, NetworkGlobalId).Address;
        _persist([new(Settings.SectionPrefix + "wallet.mnemonic_file", identity.KeyPath!), new(Settings.SectionPrefix + "wallet.address", Show(address))]);
        _logger.LogInformation("economics: the {Network} wallet is the node key's, {Address}", Settings.NetworkName, Show(address));
        return address;
    }

    /// <summary>Creates (new words) or imports (words from a file) the node's wallet for this network, stored owner-only.</summary>
    public TonAddress CreateOrImportWallet(string? importFrom)
    {
        if (Settings.MnemonicFile.Length > 0 && File.Exists(Settings.MnemonicFile))
        {
            throw new EconomicsException($"this node already has a {Settings.NetworkName} wallet ({Settings.WalletAddress}); it is kept: "
                + $"unset economics.{Settings.Network.ToConfigString()}.wallet.mnemonic_file first to use another one");
        }
        var words = importFrom is null ? Duckton.Ton.Mnemonics.TonMnemonic.Generate() : WalletFile.Read(importFrom);
        var path = WalletFile.DefaultPath(ConfigDirectory, Settings.Network);
        var address = AddressOf(words);
        WalletFile.Write(path, words);
        _persist([new(Settings.SectionPrefix + "wallet.mnemonic_file", path), new(Settings.SectionPrefix + "wallet.address", Show(address))]);
        _logger.LogInformation("economics: {Action} the {Network} wallet {Address}", importFrom is null ? "created" : "imported", Settings.NetworkName, Show(address));
        return address;
    }

    // ---------------------------------------------------------------- chain reads

    /// <summary>The chain's clock: the emulator's own (tests move it), the local clock on a real network.</summary>
    public async Task<long> ChainNowAsync(CancellationToken ct = default)
    {
        if (Settings.Network != TonNetwork.Local)
        {
            return _time.GetUtcNow().ToUnixTimeSeconds();
        }
        return await Call(() => LocalChainApi.NowAsync(_localHttp.Value, Settings.Rpc, ct)).ConfigureAwait(false);
    }

    public Task<Coins> BalanceAsync(TonAddress address, CancellationToken ct = default) => Call(() => Client.GetAddressBalanceAsync(address, ct));

    public Task<AccountInfo> AccountAsync(TonAddress address, CancellationToken ct = default) => Call(() => Client.GetAddressInformationAsync(address, ct));

    /// <summary>The GlobalParams in use, read from the chain.</summary>
    public async Task<(TonAddress Address, GlobalParamsState State)> GlobalParamsAsync(CancellationToken ct = default)
    {
        var address = Configured(Settings.Contracts.GlobalParams, "global_params")
            ?? throw new EconomicsException($"no GlobalParams in use on {Settings.NetworkName}: "
                + (Settings.Network == TonNetwork.Local ? "SELECT * FROM p2p_contracts(deploy => true)" : $"set economics.{Settings.Network.ToConfigString()}.contracts.global_params to the platform's address"));
        var r = await Call(() => Client.RunGetMethodAsync(address, "get_params", null, ct), $"GlobalParams {Show(address, true)} (is it deployed?)").ConfigureAwait(false);
        try
        {
            return (address, GlobalParamsState.Parse(r));
        }
        catch (TonFormatException e)
        {
            throw new EconomicsException($"GlobalParams {Show(address, true)} answered unexpectedly: {e.Message}", e);
        }
    }

    // ---------------------------------------------------------------- contracts

    /// <summary>The contracts in use; with <paramref name="deploy"/> (local chain only), deploys the singletons that are missing.</summary>
    public async Task<IReadOnlyList<ContractStatus>> ContractsAsync(bool deploy, CancellationToken ct = default)
    {
        if (deploy && Settings.Network != TonNetwork.Local)
        {
            throw new EconomicsException($"deploy => true is for the local chain only; on {Settings.NetworkName} set economics.{Settings.Network.ToConfigString()}.contracts.* to the platform's addresses");
        }
        var rows = new List<ContractStatus>();
        if (deploy)
        {
            var wallet = Wallet();
            var treasury = FeeRecipientOr(wallet.Address);
            var gp = GlobalParams.StateInit(wallet.Address, treasury, Settings.LocalParams);
            rows.Add(await EnsureSingletonAsync("GlobalParams", "global_params", Settings.Contracts.GlobalParams, gp, TopUpBody(GlobalParams.OpTopUp), ContractCode.GlobalParams, ct).ConfigureAwait(false));
            var anchor = RecordAnchor.StateInit(new AnchorConfig(Coins.Zero, AnchorDisputeBond, wallet.Address, wallet.Address, treasury));
            rows.Add(await EnsureSingletonAsync("RecordAnchor", "record_anchor", Settings.Contracts.RecordAnchor, anchor, TopUpBody(RecordAnchor.OpTopUp), ContractCode.RecordAnchor, ct).ConfigureAwait(false));
        }
        else
        {
            rows.Add(await DescribeAsync("GlobalParams", Settings.Contracts.GlobalParams, "global_params", ContractCode.GlobalParams, ct).ConfigureAwait(false));
            rows.Add(await DescribeAsync("RecordAnchor", Settings.Contracts.RecordAnchor, "record_anchor", ContractCode.RecordAnchor, ct).ConfigureAwait(false));
        }
        rows.Add(await DescribeAsync("StakeVault", Settings.Contracts.StakeVault, "stake_vault", ContractCode.StakeVault, ct).ConfigureAwait(false));
        // One escrow per paid job: no fixed address, only the code every escrow must carry.
        rows.Add(new ContractStatus("JobEscrow", null, ContractCode.JobEscrow.HashHex, "per job", true, false, null));
        return rows;
    }

    private static Cell TopUpBody(uint op) => new CellBuilder().StoreUInt(op, 32).StoreUInt(0, 64).EndCell();

    private TonAddress FeeRecipientOr(TonAddress wallet) => Settings.FeeRecipient.Length == 0 ? wallet
        : TonAddress.TryParse(Settings.FeeRecipient, out var a) && a is not null ? a
        : throw new EconomicsException($"economics.fee_recipient '{Settings.FeeRecipient}' is not a TON address");

    private TonAddress? Configured(string text, string key)
    {
        if (text.Trim().Length == 0)
        {
            return null;
        }
        return TonAddress.TryParse(text.Trim(), out var a) && a is not null ? a
            : throw new EconomicsException($"economics.{Settings.Network.ToConfigString()}.contracts.{key} '{text}' is not a TON address");
    }

    private async Task<ContractStatus> DescribeAsync(string name, string configured, string key, Cell code, CancellationToken ct)
    {
        var address = Configured(configured, key);
        if (address is null)
        {
            return new ContractStatus(name, null, code.HashHex, "not configured", false, false, null);
        }
        var info = await AccountAsync(address, ct).ConfigureAwait(false);
        var hash = info.Code?.HashHex ?? code.HashHex;
        return new ContractStatus(name, Show(address, true), hash, info.State, info.Code is not null && info.Code.HashHex == code.HashHex, false, null);
    }

    private async Task<ContractStatus> EnsureSingletonAsync(string name, string key, string configured, StateInit init, Cell body, Cell code, CancellationToken ct)
    {
        // Idempotent: a configured contract that is live stays; otherwise the one this node's settings give is deployed
        // (its address is the hash of its code and data, so a second call finds it live and sends nothing).
        var existing = Configured(configured, key);
        if (existing is not null && (await AccountAsync(existing, ct).ConfigureAwait(false)).IsActive)
        {
            return await DescribeAsync(name, configured, key, code, ct).ConfigureAwait(false);
        }
        var address = init.Address();
        TonTransaction? tx = null;
        if (!(await AccountAsync(address, ct).ConfigureAwait(false)).IsActive)
        {
            tx = (await SendAsync([new OutMessage(address, SingletonDeployValue, Bounce: false, Body: body, Init: init)], ct).ConfigureAwait(false)).Wallet;
            var deployed = await AccountAsync(address, ct).ConfigureAwait(false);
            if (!deployed.IsActive)
            {
                throw new EconomicsException($"the {name} deploy to {Show(address, true)} was sent (transaction {tx.Hash}) but the contract is {deployed.State}");
            }
            _logger.LogInformation("economics: deployed {Contract} at {Address}", name, Show(address, true));
        }
        var shown = Show(address, true);
        _persist([new(Settings.SectionPrefix + "contracts." + key, shown)]);
        var info = await AccountAsync(address, ct).ConfigureAwait(false);
        return new ContractStatus(name, shown, info.Code?.HashHex ?? code.HashHex, info.State, info.Code?.HashHex == code.HashHex, tx is not null, tx?.Hash);
    }

    // ---------------------------------------------------------------- stake

    /// <summary>This node's vault and its state (nothing sent).</summary>
    public async Task<VaultOperation> VaultAsync(CancellationToken ct = default)
    {
        var vault = Configured(Settings.Contracts.StakeVault, "stake_vault");
        if (vault is null)
        {
            var (init, _) = await VaultInitAsync(ct).ConfigureAwait(false);
            vault = init.Address();
        }
        return new VaultOperation(vault, await VaultStateAsync(vault, ct).ConfigureAwait(false), "show", null, null, Coins.Zero);
    }

    /// <summary>Deposits <paramref name="amount"/> into this node's vault, deploying it on first use.</summary>
    public async Task<VaultOperation> StakeAsync(Coins amount, CancellationToken ct = default)
    {
        if (amount == Coins.Zero)
        {
            return await VaultAsync(ct).ConfigureAwait(false);
        }
        var wallet = Wallet();
        var configured = Configured(Settings.Contracts.StakeVault, "stake_vault");
        StateInit? deployInit = null;
        TonAddress vault;
        if (configured is not null && (await AccountAsync(configured, ct).ConfigureAwait(false)).IsActive)
        {
            vault = configured;
        }
        else
        {
            var (init, _) = await VaultInitAsync(ct).ConfigureAwait(false);
            vault = init.Address();
            deployInit = (await AccountAsync(vault, ct).ConfigureAwait(false)).IsActive ? null : init;
        }
        var value = amount + StakeVault.DepositGasFloor;
        var sent = await SendAsync([new OutMessage(vault, value, Bounce: true, Body: StakeVault.Deposit(amount), Init: deployInit)], ct).ConfigureAwait(false);
        var vaultTx = await ExpectOutcomeAsync(vault, wallet.Address, sent.Wallet, "stake", ct).ConfigureAwait(false);
        _persist([new(Settings.SectionPrefix + "contracts.stake_vault", Show(vault, true))]);
        return new VaultOperation(vault, await VaultStateAsync(vault, ct).ConfigureAwait(false), deployInit is null ? "deposit" : "deploy+deposit", sent.Wallet, vaultTx, value);
    }

    /// <summary>Starts the unbonding of <paramref name="amount"/> (it becomes withdrawable after the cooldown).</summary>
    public async Task<VaultOperation> UnstakeAsync(Coins amount, CancellationToken ct = default)
    {
        var vault = LiveVault();
        var state = await VaultStateAsync(vault, ct).ConfigureAwait(false);
        if (state.UnbondingAt != 0)
        {
            throw new EconomicsException($"an unbond of {state.Unbonding.ToTonString()} TON is already cooling down (withdrawable at {When(state.ReadyAt)}); "
                + "withdraw it first: SELECT * FROM p2p_unstake(0, withdraw => true)");
        }
        if (amount == Coins.Zero || amount > state.Staked)
        {
            throw new EconomicsException($"cannot unstake {amount.ToTonString()} TON: {state.Staked.ToTonString()} TON is staked");
        }
        var wallet = Wallet();
        var sent = await SendAsync([new OutMessage(vault, VaultRequestValue, Body: StakeVault.RequestUnbond(amount))], ct).ConfigureAwait(false);
        var vaultTx = await ExpectOutcomeAsync(vault, wallet.Address, sent.Wallet, "unstake", ct).ConfigureAwait(false);
        return new VaultOperation(vault, await VaultStateAsync(vault, ct).ConfigureAwait(false), "unbond", sent.Wallet, vaultTx, VaultRequestValue);
    }

    /// <summary>Withdraws the unbonded amount once its cooldown is over.</summary>
    public async Task<VaultOperation> WithdrawAsync(CancellationToken ct = default)
    {
        var vault = LiveVault();
        var state = await VaultStateAsync(vault, ct).ConfigureAwait(false);
        if (state.UnbondingAt == 0)
        {
            throw new EconomicsException("nothing is unbonding: first SELECT * FROM p2p_unstake(<amount in TON>)");
        }
        var now = await ChainNowAsync(ct).ConfigureAwait(false);
        if (now < state.ReadyAt)
        {
            throw new EconomicsException($"the cooldown is not over: {state.Unbonding.ToTonString()} TON is withdrawable at {When(state.ReadyAt)} (in {TimeSpan.FromSeconds(state.ReadyAt - now)})");
        }
        var wallet = Wallet();
        var sent = await SendAsync([new OutMessage(vault, VaultRequestValue, Body: StakeVault.Withdraw())], ct).ConfigureAwait(false);
        var vaultTx = await ExpectOutcomeAsync(vault, wallet.Address, sent.Wallet, "withdraw", ct).ConfigureAwait(false);
        return new VaultOperation(vault, await VaultStateAsync(vault, ct).ConfigureAwait(false), "withdraw", sent.Wallet, vaultTx, VaultRequestValue);
    }

    private TonAddress LiveVault() => Configured(Settings.Contracts.StakeVault, "stake_vault")
        ?? throw new EconomicsException("this node has no stake vault yet: SELECT * FROM p2p_stake(<amount in TON>) deploys it");

    private static string When(uint unix) => DateTimeOffset.FromUnixTimeSeconds(unix).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The vault this node would deploy: owned by its wallet, slashable by the GlobalParams admin, its minimum stake,
    /// cooldown and slash split read from GlobalParams; the treasury (the fee recipient) also stands in for the
    /// redundancy pool, which has no contract of its own yet.
    /// </summary>
    public async Task<(StateInit Init, GlobalParamsState Params)> VaultInitAsync(CancellationToken ct = default)
    {
        var wallet = Wallet();
        var (_, gp) = await GlobalParamsAsync(ct).ConfigureAwait(false);
        return (StakeVault.StateInit(wallet.Address, VaultConfigOf(gp)), gp);
    }

    /// <summary>The configuration every node's vault is deployed with under <paramref name="gp"/> (so a peer can derive its address).</summary>
    public static VaultConfig VaultConfigOf(GlobalParamsState gp)
    {
        ArgumentNullException.ThrowIfNull(gp);
        var p = gp.Params;
        var split = new SlashSplit(gp.FeeRecipient, gp.FeeRecipient, p.SplitChallengerBps, p.SplitRedundancyBps, p.SplitBurnBps, p.SplitTreasuryBps);
        return new VaultConfig(p.MinStake, p.UnbondingSecs, gp.Admin, split);
    }

    // ---------------------------------------------------------------- node wiring: stake of peers, epoch anchoring

    private readonly Lock _wiringGate = new();
    private (string GlobalParams, RuntimeStakeSource Source)? _stakeSource;
    private (string Anchor, string WalletFile, RecordAnchorClient Client)? _anchor;

    /// <summary>
    /// Where peers' stake is read: their StakeVaults, at the addresses derived from their node keys and the vault
    /// configuration in GlobalParams. The same instance while the GlobalParams address is unchanged (a new one starts an
    /// empty stake cache).
    /// </summary>
    public IStakeSource StakeSource
    {
        get
        {
            lock (_wiringGate)
            {
                var gp = Settings.Contracts.GlobalParams.Trim();
                if (_stakeSource is not { } s || s.GlobalParams != gp)
                {
                    _stakeSource = s = (gp, new RuntimeStakeSource(this));
                }
                return s.Source;
            }
        }
    }

    /// <summary>
    /// The RecordAnchor in use, driven by this node's wallet (the keeper's root submissions); null when no anchor address
    /// or no wallet is configured. The same instance while the anchor and the wallet are unchanged.
    /// </summary>
    public Duckton.Core.Records.IEpochAnchor? EpochAnchor()
    {
        lock (_wiringGate)
        {
            var anchorText = Settings.Contracts.RecordAnchor.Trim();
            var walletFile = Settings.MnemonicFile;
            if (anchorText.Length == 0 || walletFile.Length == 0)
            {
                return null;
            }
            if (_anchor is { } a && a.Anchor == anchorText && a.WalletFile == walletFile)
            {
                return a.Client;
            }
            var address = Configured(anchorText, "record_anchor")!;
            var local = Settings.Network == TonNetwork.Local;
            var client = new RecordAnchorClient(Client, Wallet(), address, Settings.Network.ToConfigString(), new RecordAnchorClientOptions(
                Coins.FromTon(0.05m), local ? TimeSpan.FromSeconds(60) : TimeSpan.FromMinutes(3), local ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(2),
                Clock: async ct => DateTimeOffset.FromUnixTimeSeconds(await ChainNowAsync(ct).ConfigureAwait(false))));
            _anchor = (anchorText, walletFile, client);
            return client;
        }
    }

    private async Task<VaultState> VaultStateAsync(TonAddress vault, CancellationToken ct)
    {
        var info = await AccountAsync(vault, ct).ConfigureAwait(false);
        if (!info.IsActive)
        {
            return new VaultState(Coins.Zero, Coins.Zero, 0, 0, false);
        }
        var r = await Call(() => Client.RunGetMethodAsync(vault, "get_vault_state", null, ct)).ConfigureAwait(false);
        try
        {
            return StakeVault.ParseState(r);
        }
        catch (TonFormatException e)
        {
            throw new EconomicsException($"the stake vault {Show(vault, true)} answered unexpectedly: {e.Message}", e);
        }
    }

    /// <summary>The contract's transaction for the wallet's message; a clear error when it failed.</summary>
    private async Task<TonTransaction> ExpectOutcomeAsync(TonAddress contract, TonAddress wallet, TonTransaction walletTx, string what, CancellationToken ct)
    {
        var txs = await Call(() => Client.GetTransactionsAsync(contract, 20, ct)).ConfigureAwait(false);
        var expectedHash = walletTx.OutMessages.FirstOrDefault(m => m.Destination == contract)?.Hash;
        var tx = txs.FirstOrDefault(t => t.InMessage?.Source == wallet && (expectedHash is null || t.InMessage.Hash is null || t.InMessage.Hash == expectedHash))
            ?? throw new EconomicsException($"{what}: the wallet's message (transaction {walletTx.Hash}) has no transaction at {Show(contract, true)} yet");
        if (tx.Outcome is { Succeeded: false } o)
        {
            throw new EconomicsException($"{what} was refused by the vault with exit code {o.ComputeExitCode} ({ExitCodeName(o.ComputeExitCode)}); transaction {tx.Hash}; the value came back less fees");
        }
        return tx;
    }

    private static string ExitCodeName(int? code) => code switch
    {
        132 => "not the owner",
        137 => "not enough value attached",
        201 => "nothing to unbond",
        202 => "an unbond is in progress",
        203 => "cooldown not elapsed",
        204 => "nothing unbonding",
        -14 => "out of gas",
        _ => "see docs/TON.md, Exit codes",
    };

    // ---------------------------------------------------------------- sending

    /// <summary>
    /// Signs and sends one wallet request with the chain's clock and waits for its transaction. The wallet orders it
    /// after every other request of the same wallet (the anchor client's, another runtime's, another process's).
    /// </summary>
    public async Task<(TonTransaction Wallet, Coins Balance)> SendAsync(IReadOnlyList<OutMessage> messages, CancellationToken ct = default)
    {
        var wallet = Wallet();
        var balance = await BalanceAsync(wallet.Address, ct).ConfigureAwait(false);
        var needed = messages.Aggregate(Coins.Zero, (s, m) => s + m.Value);
        if (balance == Coins.Zero)
        {
            throw new EconomicsException($"the wallet {Show(wallet.Address)} is empty: send it TON first"
                + (Settings.Network == TonNetwork.Local ? " (on the local chain: POST /local/fund {\"address\":..., \"amount\":...})" : ""));
        }
        if (balance < needed)
        {
            throw new EconomicsException($"the wallet {Show(wallet.Address)} holds {balance.ToTonString()} TON; this needs {needed.ToTonString()} TON plus fees");
        }
        var local = Settings.Network == TonNetwork.Local;
        var options = new WalletSendOptions(TimeSpan.FromMinutes(2), local ? TimeSpan.FromSeconds(60) : TimeSpan.FromMinutes(3),
            local ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(2), async c => DateTimeOffset.FromUnixTimeSeconds(await ChainNowAsync(c).ConfigureAwait(false)));
        TonTransaction tx;
        try
        {
            tx = await wallet.SendAsync(messages, options, ct).ConfigureAwait(false);
        }
        catch (ToncenterException e) when (e.Method is "getAddressInformation" or "runGetMethod")
        {
            throw ApiFailed(e); // reading the seqno before signing failed: nothing was sent
        }
        catch (Exception e) when (e is ToncenterException or TonMessageExpiredException or TonConfirmationTimeoutException or TimeoutException)
        {
            throw new EconomicsException($"the wallet request did not complete: {e.Message}", e);
        }
        if (tx.Outcome is { Succeeded: false } o)
        {
            throw new EconomicsException($"the wallet refused the request (exit code {o.ComputeExitCode}, action result {o.ActionResultCode}); transaction {tx.Hash}");
        }
        return (tx, balance);
    }

    /// <summary>Runs a chain call and turns API failures into an error naming the endpoint and what to check.</summary>
    private async Task<T> Call<T>(Func<Task<T>> call, string? subject = null)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ToncenterException e)
        {
            throw ApiFailed(e, subject);
        }
    }

    /// <summary>An API failure as an error naming the endpoint and, on the local chain, what to check.</summary>
    private EconomicsException ApiFailed(ToncenterException e, string? subject = null)
    {
        var hint = Settings.Network == TonNetwork.Local ? " (is the local chain running? ./duckton chain up)" : "";
        var about = subject is null ? "" : $" reading {subject}";
        return new EconomicsException($"the TON API at {Settings.Rpc.GetLeftPart(UriPartial.Authority)} failed{about}: {e.Message}{hint}", e);
    }

    /// <summary>Nanoton as a BIGINT-sized number (the SQL surface's unit).</summary>
    public static long Nano(Coins c) => (long)(BigInteger)c.Nanoton;

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
        if (_localHttp.IsValueCreated)
        {
            _localHttp.Value.Dispose();
        }
    }
}

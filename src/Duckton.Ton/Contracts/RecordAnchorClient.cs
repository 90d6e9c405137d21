using System.Numerics;
using Duckton.Core.Records;
using Duckton.Ton.Addresses;
using Duckton.Ton.Rpc;

namespace Duckton.Ton.Contracts;

/// <summary>What <c>get_dispute</c> returns about one dispute.</summary>
/// <param name="Status">0 open, 1 upheld (bond back to the challenger), 2 rejected (bond to the treasury).</param>
public sealed record AnchorDispute(uint Id, TonAddress Challenger, uint Epoch, byte[] Leaf, Coins Bond, int Status);

/// <summary>A RecordAnchor message that reached the contract and was refused (its exit code is in docs/TON.md).</summary>
public sealed class AnchorRefusedException : Exception
{
    public AnchorRefusedException(string message, int? exitCode) : base(message) => ExitCode = exitCode;

    public int? ExitCode { get; }
}

/// <summary>How a <see cref="RecordAnchorClient"/> sends: the value attached to each message and how long it waits.</summary>
/// <param name="MessageValue">Gas value of a root submission or a verdict (the contract keeps what it does not spend).</param>
/// <param name="ConfirmTimeout">Longest wait for the wallet's and the contract's transactions.</param>
/// <param name="PollInterval">How often the transactions are polled.</param>
/// <param name="StakeWeight">The stake weight the keeper reports with each root (the contract requires at least its minStakeWeight, 242).</param>
/// <param name="Clock">The chain's clock for valid-until (an emulator's clock can be moved); null = the local clock.</param>
public sealed record RecordAnchorClientOptions(Coins MessageValue, TimeSpan ConfirmTimeout, TimeSpan PollInterval, Coins StakeWeight = default,
    Func<CancellationToken, Task<DateTimeOffset>>? Clock = null)
{
    public static RecordAnchorClientOptions Default { get; } = new(Coins.FromTon(0.05m), TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));
}

/// <summary>
/// The RecordAnchor singleton driven through a wallet: the keeper's root submissions (as an <see cref="IEpochAnchor"/>),
/// anyone's bonded disputes and the verdict authority's resolutions, each confirmed by finding the contract's own
/// transaction and reading its exit code.
/// </summary>
public sealed class RecordAnchorClient : IEpochAnchor
{
    private readonly ToncenterClient _client;
    private readonly TonWallet _wallet;
    private readonly RecordAnchorClientOptions _options;

    /// <param name="network">The name recorded with each anchor (local, testnet, mainnet).</param>
    public RecordAnchorClient(ToncenterClient client, TonWallet wallet, TonAddress anchor, string network, RecordAnchorClientOptions? options = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _wallet = wallet ?? throw new ArgumentNullException(nameof(wallet));
        Anchor = anchor ?? throw new ArgumentNullException(nameof(anchor));
        Network = network ?? throw new ArgumentNullException(nameof(network));
        _options = options ?? RecordAnchorClientOptions.Default;
    }

    public TonAddress Anchor { get; }

    public string Network { get; }

    public async Task<AnchorChainState> StateAsync(CancellationToken cancellationToken = default)
    {
        var r = await _client.RunGetMethodAsync(Anchor, "get_anchor_state", cancellationToken: cancellationToken).ConfigureAwait(false);
        if (r.ExitCode != 0 || r.Stack.Count < 3)
        {
            throw new TonFormatException($"get_anchor_state failed (exit code {r.ExitCode}); is {Anchor.ToRaw()} a RecordAnchor?");
        }
        return new AnchorChainState((uint)r.Number(0), Bytes32(r.Number(1)));
    }

    /// <summary>The next dispute id the contract will assign.</summary>
    public async Task<uint> NextDisputeIdAsync(CancellationToken cancellationToken = default)
    {
        var r = await _client.RunGetMethodAsync(Anchor, "get_anchor_state", cancellationToken: cancellationToken).ConfigureAwait(false);
        return (uint)r.Number(2);
    }

    /// <summary>The root anchored for <paramref name="epoch"/>, or null when none was.</summary>
    public async Task<byte[]?> RootOfAsync(uint epoch, CancellationToken cancellationToken = default)
    {
        var r = await _client.RunGetMethodAsync(Anchor, "get_root", [new TvmValue.Number(epoch)], cancellationToken).ConfigureAwait(false);
        var n = r.Number(0);
        return n.IsZero ? null : Bytes32(n);
    }

    public async Task<AnchorReference> AnchorAsync(uint epoch, byte[] root, byte[] previousRoot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root.All(b => b == 0))
        {
            throw new ArgumentException("an all-zero root is refused by the contract (251)", nameof(root));
        }
        var tx = await SendAsync(_options.MessageValue, RecordAnchor.SubmitRoot(epoch, root, previousRoot, _options.StakeWeight), $"anchoring epoch {epoch}", cancellationToken)
            .ConfigureAwait(false);
        return new AnchorReference(Network, Anchor.ToRaw(), tx.Hash);
    }

    /// <summary>How many of the anchor's newest transactions are searched for a submission found on chain.</summary>
    private const int SubmissionSearchDepth = 50;

    public async Task<AnchorReference?> FindAnchoredAsync(uint epoch, byte[] root, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (await RootOfAsync(epoch, cancellationToken).ConfigureAwait(false) is not { } held || !held.AsSpan().SequenceEqual(root))
        {
            return null;
        }
        // The anchor's own transaction that took it: from this wallet, a root submission naming this epoch.
        var txs = await _client.GetTransactionsAsync(Anchor, SubmissionSearchDepth, cancellationToken).ConfigureAwait(false);
        var tx = txs.FirstOrDefault(t => t.Outcome is not { Succeeded: false } && t.InMessage is { Body: { } body } m && m.Source == _wallet.Address
            && RecordAnchor.IsSubmitRoot(body, epoch));
        return tx is null ? null : new AnchorReference(Network, Anchor.ToRaw(), tx.Hash);
    }

    /// <summary>Opens a bonded dispute proving <paramref name="leaf"/> is in <paramref name="epoch"/>'s anchored root; returns its id and the contract's transaction.</summary>
    public async Task<(uint DisputeId, TonTransaction Transaction)> OpenDisputeAsync(uint epoch, byte[] leaf, IReadOnlyList<ProofStep> proof, Coins bond,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var steps = proof.Select(s => new MerkleStep(s.SiblingIsLeft, s.Sibling)).ToList();
        var id = await NextDisputeIdAsync(cancellationToken).ConfigureAwait(false);
        var tx = await SendAsync(bond, RecordAnchor.OpenDispute(epoch, leaf, steps), $"opening a dispute on epoch {epoch}", cancellationToken).ConfigureAwait(false);
        return (id, tx);
    }

    /// <summary>The verdict authority's verdict: upheld returns the bond to the challenger, rejected sends it to the treasury.</summary>
    public Task<TonTransaction> ResolveDisputeAsync(uint disputeId, bool upheld, CancellationToken cancellationToken = default) =>
        SendAsync(_options.MessageValue, RecordAnchor.ResolveDispute(disputeId, upheld), $"resolving dispute {disputeId}", cancellationToken);

    public async Task<AnchorDispute?> DisputeAsync(uint disputeId, CancellationToken cancellationToken = default)
    {
        var r = await _client.RunGetMethodAsync(Anchor, "get_dispute", [new TvmValue.Number(disputeId)], cancellationToken).ConfigureAwait(false);
        if (r.Number(0).IsZero)
        {
            return null;
        }
        return new AnchorDispute(disputeId, r.AddressAt(1)!, (uint)r.Number(2), Bytes32(r.Number(3)), Coins.FromNanoton(r.Number(4)), (int)r.Number(5));
    }

    /// <summary>The root the contract folds <paramref name="proof"/> to from <paramref name="leaf"/> (its compute_root getter): the chain's own check of a proof.</summary>
    public async Task<byte[]> ComputeRootAsync(byte[] leaf, IReadOnlyList<ProofStep> proof, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var cell = RecordAnchor.ProofCell(proof.Select(s => new MerkleStep(s.SiblingIsLeft, s.Sibling)).ToList());
        var r = await _client.RunGetMethodAsync(Anchor, "compute_root",
            [new TvmValue.Number(new BigInteger(JobEscrow.Hash32(leaf, "leaf"), isUnsigned: true, isBigEndian: true)), cell is null ? new TvmValue.Null() : new TvmValue.CellValue(cell)],
            cancellationToken).ConfigureAwait(false);
        if (r.ExitCode != 0)
        {
            throw new AnchorRefusedException($"compute_root failed with exit code {r.ExitCode}", r.ExitCode);
        }
        return Bytes32(r.Number(0));
    }

    /// <summary>Sends one message to the anchor through the wallet and returns the anchor's transaction; throws when the contract refused it.</summary>
    private async Task<TonTransaction> SendAsync(Coins value, Duckton.Ton.Cells.Cell body, string what, CancellationToken cancellationToken)
    {
        var before = (await _client.GetTransactionsAsync(Anchor, 1, cancellationToken).ConfigureAwait(false)).FirstOrDefault()?.Lt ?? 0;
        // The wallet's one send path: in turn with every other sender of this wallet (payments, slashes), never a reused seqno.
        var walletTx = await _wallet.SendAsync([new OutMessage(Anchor, value, Body: body)],
            new WalletSendOptions(TimeSpan.FromSeconds(90), _options.ConfirmTimeout, _options.PollInterval, _options.Clock), cancellationToken).ConfigureAwait(false);
        if (walletTx.Outcome is { Succeeded: false } w)
        {
            throw new AnchorRefusedException($"{what}: the wallet's request failed ({w})", w.ComputeExitCode);
        }
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var txs = await _client.GetTransactionsAsync(Anchor, 10, cancellationToken).ConfigureAwait(false);
            if (txs.FirstOrDefault(t => t.Lt > before && t.InMessage?.Source == _wallet.Address) is { } tx)
            {
                if (tx.Outcome is { Succeeded: false } o)
                {
                    throw new AnchorRefusedException($"{what}: the RecordAnchor refused it with exit code {o.ComputeExitCode}", o.ComputeExitCode);
                }
                return tx;
            }
            if (waited.Elapsed > _options.ConfirmTimeout)
            {
                throw new TonConfirmationTimeoutException($"{what}: no RecordAnchor transaction within {_options.ConfirmTimeout.TotalSeconds:0} s");
            }
            await Task.Delay(_options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte[] Bytes32(BigInteger n)
    {
        var raw = n.ToByteArray(isUnsigned: true, isBigEndian: true);
        var out32 = new byte[32];
        raw.CopyTo(out32, 32 - raw.Length);
        return out32;
    }
}

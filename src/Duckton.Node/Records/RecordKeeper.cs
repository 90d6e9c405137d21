using Duckton.Core.Configuration;
using Duckton.Core.Records;
using Duckton.Node.Trust;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Records;

/// <summary>
/// Seals this node's job records into epochs and, on the keeper node with economics on, anchors each sealed root in the
/// RecordAnchor contract. Epoch windows are aligned to wall time (economics.records.epoch_secs): at each window's end the
/// records received before it are sealed into one epoch (none received: no epoch). Roots are computed and stored locally
/// whether or not anything is anchored.
/// </summary>
public sealed class RecordKeeper : IAsyncDisposable
{
    private readonly Func<TrustStore> _store;
    private readonly Func<NodeConfig> _config;
    private readonly Func<IEpochAnchor?> _anchor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private uint _chainEpoch;

    /// <summary>Local epochs whose number the chain holds, already checked for being this node's own submission (asked once per run).</summary>
    private readonly HashSet<uint> _checkedOnChain = [];

    /// <param name="anchor">The chain anchor (null: none configured); consulted only when economics is on and this node is the keeper.</param>
    public RecordKeeper(Func<TrustStore> store, Func<NodeConfig> config, Func<IEpochAnchor?> anchor, TimeProvider time, ILogger logger)
    {
        _store = store;
        _config = config;
        _anchor = anchor;
        _time = time;
        _logger = logger;
    }

    /// <summary>What the last anchoring attempt failed with (null after a success or when none was made).</summary>
    public string? LastAnchorError { get; private set; }

    /// <summary>The anchor in effect: economics on, this node the keeper, and a chain anchor configured.</summary>
    public IEpochAnchor? ActiveAnchor()
    {
        var c = _config();
        return c.Economics.Enabled && c.Economics.Records.Keeper ? _anchor() : null;
    }

    /// <summary>The start of the current epoch window: records before it are due for sealing.</summary>
    public DateTimeOffset WindowStart()
    {
        var secs = Math.Max(1, (long)_config().Economics.Records.Epoch.TotalSeconds);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        return DateTimeOffset.FromUnixTimeSeconds(now - now % secs);
    }

    /// <summary>Seals the records due now into an epoch (locally) without touching the chain; returns it, or null.</summary>
    public SealedEpoch? SealDue()
    {
        _gate.Wait();
        try
        {
            return _store().SealEpoch(WindowStart(), _chainEpoch + 1);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One keeper round: seals what is due and, when anchoring is active, anchors every sealed epoch the chain can take next.</summary>
    public async Task<SealedEpoch?> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var anchor = ActiveAnchor();
            if (anchor is not null)
            {
                try
                {
                    // A new epoch must be numbered above what the chain holds, or the contract refuses it (241).
                    _chainEpoch = (await anchor.StateAsync(cancellationToken).ConfigureAwait(false)).CurrentEpoch;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The chain being down must not stop sealing: this round seals locally and anchors nothing.
                    LastAnchorError = e.Message;
                    _logger.LogWarning("record keeper: the anchor's state is unreadable, nothing anchored this round: {Error}", e.Message);
                    anchor = null;
                }
            }
            var sealedEpoch = _store().SealEpoch(WindowStart(), _chainEpoch + 1);
            if (anchor is not null)
            {
                await AnchorPendingAsync(anchor, cancellationToken).ConfigureAwait(false);
            }
            return sealedEpoch;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task AnchorPendingAsync(IEpochAnchor anchor, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var e in _store().Epochs().Where(e => e.Anchor is null))
            {
                var state = await anchor.StateAsync(cancellationToken).ConfigureAwait(false);
                _chainEpoch = state.CurrentEpoch;
                if (e.Epoch != state.CurrentEpoch + 1)
                {
                    if (e.Epoch <= state.CurrentEpoch)
                    {
                        // Its number is taken on chain. By this node's own submission when an earlier run stopped before
                        // the confirmation came (a shell closed mid-anchor): the chain holds exactly this root, so it is
                        // recorded as anchored. Otherwise (another keeper, economics off when sealed) it stays local.
                        if (_checkedOnChain.Add(e.Epoch) && await anchor.FindAnchoredAsync(e.Epoch, e.Root, cancellationToken).ConfigureAwait(false) is { } found)
                        {
                            _store().MarkEpochAnchored(e.Epoch, found);
                            _logger.LogInformation("record keeper: epoch {Epoch} was anchored by an earlier run (tx {Tx}); recorded", e.Epoch, found.TransactionHash);
                        }
                        continue;
                    }
                    LastAnchorError = $"epoch {e.Epoch} cannot follow the chain's epoch {state.CurrentEpoch} (the contract takes epochs one by one)";
                    _logger.LogWarning("record keeper: {Error}", LastAnchorError);
                    return;
                }
                var where = await anchor.AnchorAsync(e.Epoch, e.Root, state.LastRoot, cancellationToken).ConfigureAwait(false);
                _store().MarkEpochAnchored(e.Epoch, where);
                _chainEpoch = e.Epoch;
                _logger.LogInformation("record keeper: epoch {Epoch} ({Leaves} records) anchored at {Address}, tx {Tx}", e.Epoch, e.LeafCount, where.Address, where.TransactionHash);
            }
            LastAnchorError = null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The chain being down must not stop sealing; the next round retries the same epochs in order.
            LastAnchorError = e.Message;
            _logger.LogWarning("record keeper: anchoring failed, retried next epoch: {Error}", e.Message);
        }
    }

    /// <summary>Starts the background rounds (once): one just after each epoch window ends.</summary>
    public void Start()
    {
        lock (_stop)
        {
            _loop ??= Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var secs = Math.Max(1, (long)_config().Economics.Records.Epoch.TotalSeconds);
            var now = _time.GetUtcNow();
            var next = WindowStart().AddSeconds(secs);
            try
            {
                await Task.Delay(next - now + TimeSpan.FromMilliseconds(50), _time, _stop.Token).ConfigureAwait(false);
                await RunOnceAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or Duckton.DuckDB.DuckDBException or ObjectDisposedException)
            {
                _logger.LogWarning("record keeper: sealing failed, retried next epoch: {Error}", e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
        _gate.Dispose();
    }
}

using Duckton.Core.Crypto;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Wallets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Ton.Rpc;

/// <summary>A signed wallet request, ready to send (and to send again: the bytes never change).</summary>
/// <param name="Wallet">The wallet the message goes to.</param>
/// <param name="Message">The external message.</param>
/// <param name="Body">Its signed body (what identifies it in the wallet's transaction list).</param>
/// <param name="Seqno">The wallet seqno it consumes.</param>
/// <param name="ValidUntil">Unix time after which the wallet refuses it.</param>
public sealed record WalletTransfer(TonAddress Wallet, Cell Message, Cell Body, uint Seqno, uint ValidUntil)
{
    public string MessageHash => Message.HashHex;
}

/// <summary>The message was not executed before its valid-until time; the wallet will now refuse it forever.</summary>
public sealed class TonMessageExpiredException : Exception
{
    public TonMessageExpiredException(string message) : base(message)
    {
    }
}

/// <summary>No transaction for the message was seen within the wait; it may still be executed until valid-until.</summary>
public sealed class TonConfirmationTimeoutException : TimeoutException
{
    public TonConfirmationTimeoutException(string message) : base(message)
    {
    }
}

/// <summary>How <see cref="TonWallet.SendAsync"/> sends one request.</summary>
/// <param name="ValidFor">How long after signing the wallet may still execute it.</param>
/// <param name="ConfirmTimeout">Longest wait for its transaction.</param>
/// <param name="PollInterval">How often the chain is polled while waiting.</param>
/// <param name="Clock">The chain's clock for valid-until (an emulator's clock can be moved); null = the local clock.</param>
public sealed record WalletSendOptions(TimeSpan ValidFor, TimeSpan ConfirmTimeout, TimeSpan PollInterval,
    Func<CancellationToken, Task<DateTimeOffset>>? Clock = null);

/// <summary>
/// Sends wallet v5r1 requests through toncenter and confirms them. A request is built once (seqno + valid-until +
/// signature) and that exact message is what every retry sends, so a request runs at most once; it is confirmed by
/// finding the wallet transaction whose inbound message is it, and reading that transaction's exit code.
/// <see cref="SendAsync"/> is the one send path: it reads the seqno, signs, sends and confirms inside the wallet's turn
/// (<see cref="WalletSendGate"/>), so two senders never sign the same seqno.
/// </summary>
public sealed partial class TonWallet
{
    /// <summary>How long a seqno learnt from a confirmation outranks a lower one the API reports (an API lagging behind a
    /// transaction it has already shown catches up within seconds; a chain that still reports less after this was reset).</summary>
    public static readonly TimeSpan SeqnoMemory = TimeSpan.FromMinutes(2);

    /// <summary>Longest wait for another process's turn on the wallet's lock file.</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromMinutes(10);

    // (endpoint, wallet) -> the next seqno a confirmed request proved, and when: process-wide, like the send turn.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Endpoint, string Wallet), (uint Next, long At)> s_nextSeqno = new();

    private readonly ToncenterClient _client;
    private readonly Ed25519Key _key;
    private readonly TimeProvider _time;
    private readonly string? _lockDirectory;
    private readonly ILogger _logger;

    /// <param name="lockDirectory">Where the wallet's cross-process lock file is kept (the node's config directory); null =
    /// sends are ordered within this process only.</param>
    public TonWallet(ToncenterClient client, WalletV5R1 contract, Ed25519Key key, TimeProvider? time = null, string? lockDirectory = null,
        ILogger? logger = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        Contract = contract ?? throw new ArgumentNullException(nameof(contract));
        _key = key ?? throw new ArgumentNullException(nameof(key));
        if (!key.PublicKey.SequenceEqual(contract.PublicKey))
        {
            throw new ArgumentException("the key does not belong to this wallet", nameof(key));
        }
        _time = time ?? TimeProvider.System;
        _lockDirectory = lockDirectory;
        _logger = logger ?? NullLogger.Instance;
    }

    public WalletV5R1 Contract { get; }

    public TonAddress Address => Contract.Address;

    /// <summary>The lock file that orders this wallet's sends across processes, or null when none is used.</summary>
    public string? LockFile => _lockDirectory is null ? null : WalletSendGate.LockFile(_lockDirectory, Address);

    /// <summary>
    /// Signs, sends and confirms one request inside the wallet's turn, and returns the wallet's transaction (whatever its
    /// outcome: the caller reads it). A request that fails is not sent again with another seqno.
    /// </summary>
    public async Task<TonTransaction> SendAsync(IReadOnlyList<OutMessage> messages, WalletSendOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var turn = await WalletSendGate.EnterAsync(Address, _lockDirectory, DefaultLockTimeout, _time, cancellationToken).ConfigureAwait(false);
        DateTimeOffset? now = options.Clock is { } clock ? await clock(cancellationToken).ConfigureAwait(false) : null;
        var transfer = await PrepareAsync(messages, options.ValidFor, now, cancellationToken).ConfigureAwait(false);
        return await SendAndConfirmAsync(transfer, options.ConfirmTimeout, options.PollInterval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Builds and signs a request with the wallet's next seqno, valid for <paramref name="validFor"/> from <paramref name="now"/>
    /// (default: local clock; pass chain time on an emulator whose clock was moved). The seqno is the larger of the chain's
    /// and the one this process's last confirmed request proved (an API can report the state before that transaction).
    /// Call it inside the wallet's turn (<see cref="SendAsync"/> does) or two senders can sign the same seqno.
    /// </summary>
    public async Task<WalletTransfer> PrepareAsync(IReadOnlyList<OutMessage> messages, TimeSpan validFor, DateTimeOffset? now = null,
        CancellationToken cancellationToken = default)
    {
        var chainSeqno = await _client.GetWalletSeqnoAsync(Address, cancellationToken).ConfigureAwait(false);
        var seqno = chainSeqno;
        if (s_nextSeqno.TryGetValue(Key, out var known) && known.Next > chainSeqno && _time.GetElapsedTime(known.At) < SeqnoMemory)
        {
            LogChainBehind(Address.ToRaw(), chainSeqno, known.Next);
            seqno = known.Next;
        }
        var validUntil = (uint)((now ?? _time.GetUtcNow()).ToUnixTimeSeconds() + (long)validFor.TotalSeconds);
        var transfer = Prepare(seqno, validUntil, messages);
        LogPrepared(Address.ToRaw(), seqno, validUntil, transfer.MessageHash[..16]);
        return transfer;
    }

    public WalletTransfer Prepare(uint seqno, uint validUntil, IReadOnlyList<OutMessage> messages)
    {
        var body = Contract.CreateSignedBody(_key, seqno, validUntil, messages);
        var message = TonMessages.ExternalIn(Address, body, seqno == 0 ? Contract.StateInit : null);
        return new WalletTransfer(Address, message, body, seqno, validUntil);
    }

    /// <summary>
    /// Sends the request (the client retries transient failures with the same bytes) and waits for its transaction.
    /// Even when sending fails for good the message may have arrived, so the outcome is still looked for. Once the
    /// transaction is found its seqno is spent: the next request of this process signs a higher one, and this call
    /// waits (within <paramref name="maxWait"/>) until the chain reports the wallet's seqno past it, so that the next
    /// sender, in this process or another, reads a fresh one.
    /// </summary>
    public async Task<TonTransaction> SendAndConfirmAsync(WalletTransfer transfer, TimeSpan maxWait, TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        var started = _time.GetTimestamp();
        var poll = pollInterval ?? TimeSpan.FromMilliseconds(500);
        ToncenterException? sendError = null;
        try
        {
            await _client.SendBocAsync(transfer.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (ToncenterException e)
        {
            sendError = e;
            LogSendFailed(Address.ToRaw(), transfer.Seqno, e.Message);
        }
        TonTransaction tx;
        try
        {
            tx = await MessageConfirmation.WaitForAsync(_client, transfer.Wallet, transfer.Message, transfer.Body, transfer.ValidUntil,
                sendError is null ? maxWait : TimeSpan.FromTicks(Math.Min(maxWait.Ticks, TimeSpan.FromSeconds(5).Ticks)),
                poll, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TonConfirmationTimeoutException) when (sendError is not null)
        {
            throw sendError;
        }
        // An external message has a transaction only once the wallet accepted it, and wallet v5r1 stores seqno + 1 as it accepts.
        Remember(transfer.Seqno + 1);
        LogConfirmed(Address.ToRaw(), transfer.Seqno, tx.Hash, tx.Outcome?.ComputeExitCode);
        await WaitForSeqnoAsync(transfer.Seqno, maxWait - _time.GetElapsedTime(started), poll, cancellationToken).ConfigureAwait(false);
        return tx;
    }

    private (string Endpoint, string Wallet) Key => (_client.Options.Endpoint.ToString(), Address.ToRaw());

    private void Remember(uint next) =>
        s_nextSeqno.AddOrUpdate(Key, (next, _time.GetTimestamp()), (_, old) => (Math.Max(old.Next, next), _time.GetTimestamp()));

    /// <summary>Polls the seqno until the chain reports more than <paramref name="used"/>; best effort (the transaction is already confirmed).</summary>
    private async Task WaitForSeqnoAsync(uint used, TimeSpan budget, TimeSpan poll, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        uint seen = 0;
        while (true)
        {
            try
            {
                seen = await _client.GetWalletSeqnoAsync(Address, cancellationToken).ConfigureAwait(false);
                if (seen > used)
                {
                    return;
                }
            }
            catch (ToncenterException e)
            {
                LogSeqnoUnread(Address.ToRaw(), e.Message);
            }
            if (_time.GetElapsedTime(started) >= budget)
            {
                LogSeqnoLagging(Address.ToRaw(), seen, used + 1);
                return;
            }
            await Task.Delay(poll, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "wallet {Wallet}: signed seqno {Seqno} valid until {ValidUntil}, message {Message}")]
    private partial void LogPrepared(string wallet, uint seqno, uint validUntil, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "wallet {Wallet}: seqno {Seqno} confirmed by transaction {Tx} (exit code {ExitCode})")]
    private partial void LogConfirmed(string wallet, uint seqno, string tx, int? exitCode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "wallet {Wallet}: sending seqno {Seqno} failed: {Error}")]
    private partial void LogSendFailed(string wallet, uint seqno, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "wallet {Wallet}: the API reports seqno {Chain}, a confirmed request already proved {Known}; signing that")]
    private partial void LogChainBehind(string wallet, uint chain, uint known);

    [LoggerMessage(Level = LogLevel.Debug, Message = "wallet {Wallet}: seqno unreadable after a confirmation: {Error}")]
    private partial void LogSeqnoUnread(string wallet, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "wallet {Wallet}: the API still reports seqno {Seen} after a confirmation proved {Next}; this process signs that next")]
    private partial void LogSeqnoLagging(string wallet, uint seen, uint next);
}

/// <summary>Finds the transaction an external message produced.</summary>
public static class MessageConfirmation
{
    /// <summary>
    /// Polls the account's transactions until one has <paramref name="message"/> (matched by message hash, or by body
    /// hash when the API reports only the body) as its inbound message. Throws <see cref="TonMessageExpiredException"/>
    /// once the local clock is past valid-until (plus 30 s of slack) with no such transaction, and
    /// <see cref="TonConfirmationTimeoutException"/> after <paramref name="maxWait"/>.
    /// </summary>
    public static async Task<TonTransaction> WaitForAsync(ToncenterClient client, TonAddress account, Cell message, Cell? body, uint validUntil,
        TimeSpan maxWait, TimeSpan pollInterval, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        time ??= TimeProvider.System;
        var started = time.GetTimestamp();
        var hash = message.HashHex;
        var bodyHash = body?.HashHex;
        while (true)
        {
            var txs = await client.GetTransactionsAsync(account, 30, cancellationToken).ConfigureAwait(false);
            foreach (var tx in txs)
            {
                var im = tx.InMessage;
                if (im is null || im.Source is not null)
                {
                    continue;
                }
                if (im.Hash == hash || (bodyHash is not null && im.Body?.HashHex == bodyHash))
                {
                    return tx;
                }
            }
            if (time.GetUtcNow().ToUnixTimeSeconds() > validUntil + 30L)
            {
                throw new TonMessageExpiredException(
                    $"message {hash[..16]}… to {account} was not executed before its valid-until ({validUntil}); it can no longer be executed");
            }
            if (time.GetElapsedTime(started) >= maxWait)
            {
                throw new TonConfirmationTimeoutException(
                    $"no transaction for message {hash[..16]}… to {account} within {maxWait.TotalSeconds:0.#} s (it stays valid until {validUntil})");
            }
            await Task.Delay(pollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }
}

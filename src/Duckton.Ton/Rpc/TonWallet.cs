using Duckton.Core.Crypto;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Wallets;

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

/// <summary>
/// Sends wallet v5r1 requests through toncenter and confirms them. A request is built once (seqno + valid-until +
/// signature) and that exact message is what every retry sends, so a request runs at most once; it is confirmed by
/// finding the wallet transaction whose inbound message is it, and reading that transaction's exit code.
/// </summary>
public sealed class TonWallet
{
    private readonly ToncenterClient _client;
    private readonly Ed25519Key _key;
    private readonly TimeProvider _time;

    public TonWallet(ToncenterClient client, WalletV5R1 contract, Ed25519Key key, TimeProvider? time = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        Contract = contract ?? throw new ArgumentNullException(nameof(contract));
        _key = key ?? throw new ArgumentNullException(nameof(key));
        if (!key.PublicKey.SequenceEqual(contract.PublicKey))
        {
            throw new ArgumentException("the key does not belong to this wallet", nameof(key));
        }
        _time = time ?? TimeProvider.System;
    }

    public WalletV5R1 Contract { get; }

    public TonAddress Address => Contract.Address;

    /// <summary>Builds and signs a request with the wallet's current seqno, valid for <paramref name="validFor"/> from <paramref name="now"/> (default: local clock; pass chain time on an emulator whose clock was moved).</summary>
    public async Task<WalletTransfer> PrepareAsync(IReadOnlyList<OutMessage> messages, TimeSpan validFor, DateTimeOffset? now = null,
        CancellationToken cancellationToken = default)
    {
        var seqno = await _client.GetWalletSeqnoAsync(Address, cancellationToken).ConfigureAwait(false);
        var validUntil = (uint)((now ?? _time.GetUtcNow()).ToUnixTimeSeconds() + (long)validFor.TotalSeconds);
        return Prepare(seqno, validUntil, messages);
    }

    public WalletTransfer Prepare(uint seqno, uint validUntil, IReadOnlyList<OutMessage> messages)
    {
        var body = Contract.CreateSignedBody(_key, seqno, validUntil, messages);
        var message = TonMessages.ExternalIn(Address, body, seqno == 0 ? Contract.StateInit : null);
        return new WalletTransfer(Address, message, body, seqno, validUntil);
    }

    /// <summary>
    /// Sends the request (the client retries transient failures with the same bytes) and waits for its transaction.
    /// Even when sending fails for good the message may have arrived, so the outcome is still looked for.
    /// </summary>
    public async Task<TonTransaction> SendAndConfirmAsync(WalletTransfer transfer, TimeSpan maxWait, TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        ToncenterException? sendError = null;
        try
        {
            await _client.SendBocAsync(transfer.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (ToncenterException e)
        {
            sendError = e;
        }
        try
        {
            return await MessageConfirmation.WaitForAsync(_client, transfer.Wallet, transfer.Message, transfer.Body, transfer.ValidUntil,
                sendError is null ? maxWait : TimeSpan.FromTicks(Math.Min(maxWait.Ticks, TimeSpan.FromSeconds(5).Ticks)),
                pollInterval ?? TimeSpan.FromMilliseconds(500), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TonConfirmationTimeoutException) when (sendError is not null)
        {
            throw sendError;
        }
    }
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

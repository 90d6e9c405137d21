using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;

namespace Duckton.Ton;

/// <summary>Send-mode flags of an outgoing message (the <c>mode</c> byte of action_send_msg).</summary>
[Flags]
public enum SendMode : byte
{
    None = 0,
    PayFeesSeparately = 1,
    IgnoreErrors = 2,
    DestroyIfZero = 32,
    CarryRemainingValue = 64,
    CarryAllBalance = 128,
}

/// <summary>One internal message a wallet should send.</summary>
/// <param name="Destination">Recipient.</param>
/// <param name="Value">Amount attached.</param>
/// <param name="Bounce">Bounce back if the recipient fails (false for uninitialised recipients, or the value returns).</param>
/// <param name="Body">Message body; empty when null.</param>
/// <param name="Init">StateInit to deploy at the destination.</param>
/// <param name="Mode">Send mode.</param>
public sealed record OutMessage(TonAddress Destination, Coins Value, bool Bounce = true, Cell? Body = null, StateInit? Init = null,
    SendMode Mode = SendMode.PayFeesSeparately);

/// <summary>Message encodings (TL-B <c>Message X</c> and <c>MessageRelaxed X</c>) laid out as @ton/core lays them out.</summary>
public static class TonMessages
{
    /// <summary>A text comment body: 32 zero bits then the UTF-8 text (continued in references when long).</summary>
    public static Cell Comment(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return ChunkedTail(new CellBuilder().StoreUInt(0, 32), bytes);
    }

    private static Cell ChunkedTail(CellBuilder head, ReadOnlySpan<byte> bytes)
    {
        var fit = head.AvailableBits / 8;
        if (bytes.Length <= fit)
        {
            return head.StoreBytes(bytes).EndCell();
        }
        head.StoreBytes(bytes[..fit]);
        return head.StoreRef(ChunkedTail(new CellBuilder(), bytes[fit..])).EndCell();
    }

    /// <summary>An internal message as a wallet emits it (source addr_none, fees and timestamps zero).</summary>
    public static Cell InternalRelaxed(OutMessage message)
    {
        var b = new CellBuilder()
            .StoreBit(false) // int_msg_info$0
            .StoreBit(true) // ihr_disabled
            .StoreBit(message.Bounce)
            .StoreBit(false) // bounced
            .StoreAddress(null)
            .StoreAddress(message.Destination)
            .StoreCoins(message.Value)
            .StoreBit(false) // no extra currencies
            .StoreCoins(Coins.Zero) // ihr_fee
            .StoreCoins(Coins.Zero) // fwd_fee
            .StoreUInt(0, 64) // created_lt
            .StoreUInt(0, 32); // created_at
        StoreInitAndBody(b, message.Init, message.Body ?? Cell.Empty, relaxed: true);
        return b.EndCell();
    }

    /// <summary>An inbound external message to <paramref name="destination"/> (what sendBoc takes).</summary>
    public static Cell ExternalIn(TonAddress destination, Cell body, StateInit? init = null)
    {
        var b = new CellBuilder()
            .StoreUInt(0b10, 2) // ext_in_msg_info$10
            .StoreAddress(null)
            .StoreAddress(destination)
            .StoreCoins(Coins.Zero); // import_fee
        StoreInitAndBody(b, init, body, relaxed: false);
        return b.EndCell();
    }

    // The inline-or-reference choice follows @ton/core exactly (it differs slightly between Message and MessageRelaxed),
    // because the message hash, and so the wallet signature check on a relaxed message, depends on the layout.
    private static void StoreInitAndBody(CellBuilder b, StateInit? init, Cell body, bool relaxed)
    {
        if (init is null)
        {
            b.StoreBit(false);
        }
        else
        {
            b.StoreBit(true);
            var initCell = init.ToCell();
            var asRef = relaxed
                ? b.AvailableBits - 2 < initCell.BitLength
                : b.AvailableBits - 2 < initCell.BitLength + body.BitLength;
            if (asRef)
            {
                b.StoreBit(true).StoreRef(initCell);
            }
            else
            {
                b.StoreBit(false).StoreCellInline(initCell);
            }
        }
        var bodyAsRef = b.AvailableBits - 1 < body.BitLength || b.RefCount + body.Refs.Count > Cell.MaxRefs;
        if (bodyAsRef)
        {
            b.StoreBit(true).StoreRef(body);
        }
        else
        {
            b.StoreBit(false).StoreCellInline(body);
        }
    }
}

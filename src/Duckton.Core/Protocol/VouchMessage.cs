using Duckton.Core.Trust;

namespace Duckton.Core.Protocol;

/// <summary>
/// <c>Vouch</c> (32): one voucher-signed vouch, gossiped like receipts. Wire form (docs/PROTOCOL.md "Vouches"):
/// str voucher_id ‖ str vouchee_id ‖ u64 weight_ppm ‖ u64 ts_ms ‖ key32 voucher_pubkey ‖ sig64. A receiver verifies
/// it (<see cref="Vouch.Problem"/>) and keeps only the newest per (voucher, vouchee).
/// </summary>
internal static class VouchMessage
{
    private const int MaxField = 128;

    public static byte[] Encode(Vouch v)
    {
        var w = new ProtoWriter(256);
        w.String(v.VoucherId).String(v.VoucheeId).U64(v.WeightPpm).U64(v.TimestampMs)
            .Fixed(v.VoucherPublicKey, ProtoLimits.PublicKeyBytes).Fixed(v.Signature, ProtoLimits.SignatureBytes);
        return w.ToArray();
    }

    public static Vouch Decode(ReadOnlySpan<byte> payload)
    {
        var p = new ProtoReader(payload);
        var vouch = new Vouch
        {
            VoucherId = p.String(MaxField, "vouch.voucher_id"),
            VoucheeId = p.String(MaxField, "vouch.vouchee_id"),
            WeightPpm = p.U64("vouch.weight_ppm"),
            TimestampMs = p.U64("vouch.ts_ms"),
            VoucherPublicKey = p.Fixed(ProtoLimits.PublicKeyBytes, "vouch.voucher_pubkey").ToArray(),
            Signature = p.Fixed(ProtoLimits.SignatureBytes, "vouch.signature").ToArray(),
        };
        p.End("vouch");
        return vouch;
    }
}

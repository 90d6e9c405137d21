namespace Duckton.Core.Protocol;

/// <summary>
/// SWIM indirect probe (frame 42): "ping this peer for me". The receiver pings <see cref="NodeId"/> only when it knows
/// that peer at <see cref="Address"/> itself (it never dials an address a stranger names), and answers with a
/// <see cref="ProbeResultMessage"/> carrying the same nonce.
/// </summary>
internal sealed record ProbeRequestMessage(ulong Nonce, string NodeId, string Address, uint TimeoutMs)
{
    public byte[] Encode() => new ProtoWriter(128).U64(Nonce).String(NodeId).String(Address).U32(TimeoutMs).ToArray();

    public static ProbeRequestMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new ProbeRequestMessage(r.U64("probe.nonce"), r.String(ProtoLimits.MaxNodeIdBytes, "probe.node_id"),
            r.String(ProtoLimits.MaxLabelBytes, "probe.address"), r.U32("probe.timeout_ms"));
        r.End("probe");
        return m;
    }
}

/// <summary>Answer to a <see cref="ProbeRequestMessage"/> (frame 43): whether the prober reached the peer.</summary>
internal sealed record ProbeResultMessage(ulong Nonce, bool Reached)
{
    public byte[] Encode() => new ProtoWriter(9).U64(Nonce).U8(Reached ? (byte)1 : (byte)0).ToArray();

    public static ProbeResultMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var nonce = r.U64("probe_result.nonce");
        var reached = r.U8("probe_result.reached");
        if (reached > 1)
        {
            throw new ProtocolException("probe_result.reached must be 0 or 1");
        }
        r.End("probe_result");
        return new ProbeResultMessage(nonce, reached == 1);
    }
}

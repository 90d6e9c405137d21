using System.Text;

namespace Duckton.Transport;

/// <summary>
/// Payload layouts of Hello, HelloAck and Reject (docs/PROTOCOL.md, "Transport"). Strings are u32 LE length + UTF-8 with the caps
/// below. Bytes after the known fields are ignored, so a later minor version may append fields.
/// </summary>
internal static class HandshakeCodec
{
    public const int MaxProtocolName = 64;
    public const int MaxVersion = 32;
    public const int MaxNodeId = NodeIdentity.NodeIdLength;
    public const int MaxSoftwareVersion = 128;
    public const int MaxListenAddress = 300;
    public const int MaxRejectMessage = 1024;

    public static byte[] EncodeHello(PeerHello hello)
    {
        var w = new PayloadWriter(256);
        WriteHello(w, hello);
        return w.ToArray();
    }

    public static PeerHello DecodeHello(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        return ReadHello(ref r);
    }

    public static byte[] EncodeHelloAck(string negotiatedVersion, PeerHello hello)
    {
        var w = new PayloadWriter(256);
        w.WriteString(negotiatedVersion, MaxVersion, "negotiated_version");
        WriteHello(w, hello);
        return w.ToArray();
    }

    public static (string NegotiatedVersion, PeerHello Hello) DecodeHelloAck(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var negotiated = r.ReadString(MaxVersion, "HelloAck.negotiated_version");
        return (negotiated, ReadHello(ref r));
    }

    public static byte[] EncodeReject(RejectReason reason, string message, string protocolVersion, string minSupportedVersion)
    {
        var w = new PayloadWriter(128);
        w.WriteUInt16((ushort)reason);
        w.WriteString(Truncate(message, MaxRejectMessage), MaxRejectMessage, "message");
        w.WriteString(protocolVersion, MaxVersion, "protocol_version");
        w.WriteString(minSupportedVersion, MaxVersion, "min_supported_version");
        return w.ToArray();
    }

    public static (ushort Code, string Message, string ProtocolVersion, string MinSupportedVersion) DecodeReject(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var code = r.ReadUInt16("Reject.reason");
        var message = Sanitize(r.ReadString(MaxRejectMessage, "Reject.message"));
        var version = Sanitize(r.ReadString(MaxVersion, "Reject.protocol_version"));
        var min = Sanitize(r.ReadString(MaxVersion, "Reject.min_supported_version"));
        return (code, message, version, min);
    }

    /// <summary>Text from a peer ends up in exceptions and logs: control characters become '?'.</summary>
    public static string Sanitize(string text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                var sb = new StringBuilder(text.Length);
                foreach (var d in text)
                {
                    sb.Append(char.IsControl(d) ? '?' : d);
                }
                return sb.ToString();
            }
        }
        return text;
    }

    private static void WriteHello(PayloadWriter w, PeerHello hello)
    {
        w.WriteString(hello.ProtocolName, MaxProtocolName, "protocol_name");
        w.WriteString(hello.ProtocolVersion, MaxVersion, "protocol_version");
        w.WriteString(hello.MinSupportedVersion, MaxVersion, "min_supported_version");
        w.WriteString(hello.NodeId, MaxNodeId, "node_id");
        w.WriteString(hello.SoftwareVersion, MaxSoftwareVersion, "software_version");
        w.WriteOptionalString(hello.ListenAddress, MaxListenAddress, "listen_address");
        w.WriteUInt32((uint)hello.MaxFrameBytes);
    }

    private static PeerHello ReadHello(ref PayloadReader r)
    {
        var hello = new PeerHello(
            Sanitize(r.ReadString(MaxProtocolName, "Hello.protocol_name")),
            Sanitize(r.ReadString(MaxVersion, "Hello.protocol_version")),
            Sanitize(r.ReadString(MaxVersion, "Hello.min_supported_version")),
            Sanitize(r.ReadString(MaxNodeId, "Hello.node_id")),
            Sanitize(r.ReadString(MaxSoftwareVersion, "Hello.software_version")),
            r.ReadOptionalString(MaxListenAddress, "Hello.listen_address") is { } a ? Sanitize(a) : null);
        var maxFrame = r.ReadUInt32("Hello.max_frame_bytes");
        if (maxFrame is < FrameFormat.MinMaxFrameBytes or > FrameFormat.MaxMaxFrameBytes)
        {
            throw new PayloadFormatException(
                $"Hello.max_frame_bytes: {maxFrame} is outside {FrameFormat.MinMaxFrameBytes}..{FrameFormat.MaxMaxFrameBytes}");
        }
        return hello with { MaxFrameBytes = (int)maxFrame };
    }

    private static string Truncate(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes)
        {
            return text;
        }
        var cut = Math.Min(text.Length, maxBytes / 3);
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }
        return text[..cut];
    }
}

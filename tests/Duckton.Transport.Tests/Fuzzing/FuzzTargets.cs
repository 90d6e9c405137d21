using System.Text;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Core.Toml;
using Duckton.Core.Trust;

namespace Duckton.Transport.Tests.Fuzzing;

/// <summary>
/// Every decoder that reads bytes from a peer or a file, with valid seed encodings and the exception types it
/// documents: frames, the handshake, result schemas and batches, every job message (commits included), receipts,
/// vouches, adverts, commit certificates and TOML.
/// </summary>
public static class FuzzTargets
{
    private static readonly Type[] Protocol = [typeof(ProtocolException)];

    private static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static readonly string JobId = new('a', 32);
    private static readonly string Hash = new('b', 64);
    private static readonly string NodeId = "b3:" + new string('c', 64);

    public static ResultSchema Schema { get; } = new(["i", "s", "d", "l"], [DuckType.BigInt, DuckType.Varchar, DuckType.Double, DuckType.List(DuckType.Integer)]);

    private static ResultBatch Batch() => new(Schema,
    [
        ColumnVectors.Fixed<long>(DuckType.BigInt, new long[] { 1, -2, long.MaxValue }),
        ColumnVectors.Varchar("a", null, "ccc"),
        ColumnVectors.Fixed<double>(DuckType.Double, new[] { 1.5, double.NaN, -0.0 }),
        ColumnVectors.List(DuckType.List(DuckType.Integer), [2, null, 1], ColumnVectors.Fixed<int>(DuckType.Integer, new[] { 1, 2, 3 })),
    ], 3);

    private static CommitMessage Commit(int seed) => new(JobId, Hash, NodeId, Random(32, seed), Random(seed % 3 * 16, seed + 1), Hash, 3, BatchCodec.EncodeSchema(Schema), 1234)
    {
        Signature = Random(64, seed + 2),
    };

    private static FetchEscrow Escrow(int seed) => new(new WireAccount(0, Random(32, seed)), new WireAccount(0, Random(32, seed)), new WireAccount(-1, Random(32, seed + 1)),
        1_250_000_000, 1_700_000_600, Random(32, seed + 2), 1, 1500, 500, [new WireAccount(0, Random(32, seed + 3)), new WireAccount(0, Random(32, seed + 4))]);

    private static byte[] Frame(MessageType type, byte[] payload)
    {
        var b = new byte[FrameFormat.HeaderLength + payload.Length];
        FrameWriter.WriteHeader(b, type, payload.Length);
        payload.CopyTo(b, FrameFormat.HeaderLength);
        return b;
    }

    private static void ReadFrames(byte[] input)
    {
        using var reader = new FrameReader(new MemoryStream(input), 1 << 20);
        while (true)
        {
            try
            {
                reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (EndOfStreamException)
            {
                return;
            }
        }
    }

    /// <summary>Decoding throws on a malformed certificate; verifying reports (never throws) why a well-formed one is not valid.</summary>
    private static void Certificate(string text)
    {
        CommitCertificate.Decode(text);
        CommitCertificate.Verify(text, 2);
    }

    private static string CertificateText(byte[] binary) => CommitCertificate.Prefix + Convert.ToBase64String(binary);

    private static byte[] CertificateBinary(string text) => Convert.FromBase64String(text[CommitCertificate.Prefix.Length..]);

    public static IReadOnlyList<FuzzTarget> All()
    {
        var hello = new Duckton.Transport.PeerHello("duckton", "1.0", "1.0", NodeId, "0.1.0", "127.0.0.1:9494") { MaxFrameBytes = 16 << 20 };
        var receipt = new Receipt
        {
            JobId = JobId, WorkerId = NodeId, RequesterId = NodeId, QueryHash = Hash, ResultHash = Hash, Verdict = Verdict.Correct, LatencyMs = 5, Timestamp = 1_700_000_000,
            ObservedResultRows = 3, ObservedResultBytes = 99, RequesterPublicKey = Random(32, 1), Signature = Random(64, 2),
        };
        var vouch = new Vouch { VoucherId = NodeId, VoucheeId = NodeId, WeightPpm = 800_000, TimestampMs = 1_700_000_000_000, VoucherPublicKey = Random(32, 3), Signature = Random(64, 4) };
        var advert = new AdvertMessage(Random(32, 5), "127.0.0.1:9494", 1 << 30, 4, 8, 0, true, ["lan"], ["team-a", "team-b"], "eu", 77, 8, 1_700_000_000_000, 3)
        {
            Signature = Random(64, 6),
            ReceiptCount = 2,
            ReceiptDigest = Random(32, 7),
        };
        using var requester = Duckton.Core.Crypto.Ed25519Key.FromSeed(Random(32, 9));
        using var issuer = Duckton.Core.Crypto.Ed25519Key.FromSeed(Random(32, 11));
        var token = MembershipToken.Issue(issuer, MembershipKind.Group, NodeId, "team-a", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
        var regionToken = MembershipToken.Issue(issuer, MembershipKind.Region, NodeId, "eu", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
        CommitMessage[] commits = [Commit(1), Commit(2)];
        var certificate = CommitCertificate.Encode(commits, requester.PublicKey, 3, 2, [.. commits.Select(c => c.HostNodeId)], m => requester.Sign(m));
        var batch = BatchCodec.EncodeBatch(Batch());
        var toml = new[]
        {
            "[network]\nbind_addr = \"0.0.0.0:9494\"\nidle_timeout_ms = 60000\n",
            "# comment\n[trust]\nmin_trust = 0.7\nattestation_authorities = [\"ab\", \"cd\"]\n[trust.weights]\nalpha_reputation = 0.5\n",
            "a = { b = 1, c = [1, 2, 3], d = 'lit' }\n\"quoted key\" = \"\"\"multi\nline\"\"\"\nf = 1e10\ng = -inf\nh = 1979-05-27T07:32:00Z\n[[arr]]\nx = true\n[[arr]]\nx = false\n",
        };
        return
        [
            new("frames", [Frame(MessageType.Hello, HandshakeCodec.EncodeHello(hello)), [.. Frame(MessageType.Offer, Random(40, 8)), .. Frame(MessageType.Batch, batch)], []],
                ReadFrames, [typeof(FrameException)]),
            new("handshake-hello", [HandshakeCodec.EncodeHello(hello)], b => HandshakeCodec.DecodeHello(b), [typeof(PayloadFormatException)]),
            new("handshake-hello-ack", [HandshakeCodec.EncodeHelloAck("1.0", hello)], b => HandshakeCodec.DecodeHelloAck(b), [typeof(PayloadFormatException)]),
            new("handshake-reject", [HandshakeCodec.EncodeReject(RejectReason.Busy, "busy: at capacity", "1.0", "1.0")], b => HandshakeCodec.DecodeReject(b), [typeof(PayloadFormatException)]),
            new("batch-schema", [BatchCodec.EncodeSchema(Schema)], b => BatchCodec.DecodeSchema(b), [typeof(CodecException)]),
            new("batch", [batch], b => BatchCodec.DecodeBatch(b, Schema), [typeof(CodecException)]),
            new("batch-frame", [BatchFrame.Encode(JobId, 7, [batch, batch])], b => BatchFrame.Decode(b, 1 << 20), Protocol),
            new("commit", [Commit(1).Encode(), Commit(5).Encode(), (Commit(6) with { ClaimedPriceNanoton = 2_000_000_000 }).Encode()], b => CommitMessage.Decode(b).VerifySignature(), Protocol),
            new("offer", [new OfferMessage(JobId, Hash, WireDataClass.Internal, 42, 1 << 30, 2, "eu", ["lan"], ["g"]).Encode(),
                new OfferMessage(JobId, Hash, WireDataClass.Public, 43, 1 << 30, 2, "", [], []) { Paid = true, MaxBidNanoton = 5_000_000_000 }.Encode()], b => OfferMessage.Decode(b), Protocol),
            new("bid", [new BidMessage(JobId, 1 << 30, 2, 1, 1, 50) { Evidence = Random(100, 9) }.Encode(),
                new BidMessage(JobId, 1 << 30, 2, 1, 0, 10) { Quote = new PriceQuote(WirePriceModel.Metered, 1_000) }.Encode()], b => BidMessage.Decode(b), Protocol),
            new("dispatch", [new DispatchMessage(JobId, Hash, "SELECT 42 AS answer", 1 << 30, 2, 60_000, 0, Random(32, 10)).Encode(),
                new DispatchMessage(JobId, Hash, "SELECT 1", 1 << 30, 2, 30_000, 0, []) { AgreedPriceNanoton = 3_000_000_000 }.Encode(),
                new DispatchMessage(JobId, Hash, "SELECT 1", 1 << 30, 2, 30_000, 0, []) { InlineLimit = 65_536 }.Encode()], b => DispatchMessage.Decode(b), Protocol),
            new("fetch", [new FetchMessage(JobId, 8).Encode(), new FetchMessage(JobId, 8) { Escrow = Escrow(5) }.Encode()], b => FetchMessage.Decode(b), Protocol),
            new("end", [new EndMessage(JobId, EndStatus.Complete, 3, 99).Encode()], b => EndMessage.Decode(b), Protocol),
            new("error", [new ErrorMessage(JobId, JobErrorCode.Execution, "boom").Encode()], b => ErrorMessage.Decode(b), Protocol),
            new("reason", [new ReasonMessage(JobId, "at capacity").Encode()], b => ReasonMessage.Decode(b), Protocol),
            new("ping", [new PingMessage(1, 2).Encode()], b => PingMessage.Decode(b), Protocol),
            new("receipt", [ReceiptMessage.Encode(receipt)], b => ReceiptMessage.Decode(b).Problem(), Protocol),
            new("vouch", [VouchMessage.Encode(vouch)], b => VouchMessage.Decode(b).Problem(), Protocol),
            new("advert", [advert.Encode(), (advert with { Tokens = [token, regionToken] }).Encode()], b => AdvertMessage.Decode(b).Verify(8), Protocol),
            new("membership-token", [token.Encode(), regionToken.Encode()], b => _ = MembershipToken.Decode(b).SignatureValid, Protocol),
            new("certificate", [CertificateBinary(certificate)], b => Certificate(CertificateText(b)), Protocol),
            new("certificate-text", [Encoding.UTF8.GetBytes(certificate)], b => Certificate(Encoding.UTF8.GetString(b)), Protocol),
            new("toml", [.. toml.Select(Encoding.UTF8.GetBytes)], b => TomlParser.Parse(b, "fuzz.toml"), [typeof(TomlException)]),
        ];
    }
}

namespace Duckton.Transport;

/// <summary>
/// The type byte of a frame. Values 1–9 belong to the transport handshake; the grid protocol defines the payloads of 10 and up.
/// Gaps are left on purpose so related messages can be added next to their family.
/// </summary>
/// <remarks>
/// A receiver passes types it does not know to its caller unchanged (<see cref="Frame.Type"/> may hold an undefined value);
/// whether an unexpected type is an error is the business of the state machine that reads it.
/// </remarks>
public enum MessageType : byte
{
    /// <summary>Client → server, first frame after TLS: who I am and which protocol versions I speak.</summary>
    Hello = 1,

    /// <summary>Server → client: handshake accepted; carries the negotiated version and the server's own hello.</summary>
    HelloAck = 2,

    /// <summary>Either side: connection refused, with a reason code and a message; the sender closes afterwards.</summary>
    Reject = 3,

    /// <summary>Job protocol: requester offers a job.</summary>
    Offer = 10,

    /// <summary>Job protocol: worker bids on an offer.</summary>
    Bid = 11,

    /// <summary>Job protocol: worker declines an offer.</summary>
    Decline = 12,

    /// <summary>Job protocol: requester dispatches a job it received a bid for.</summary>
    Dispatch = 13,

    /// <summary>Job protocol: worker's signed result commitment.</summary>
    Commit = 14,

    /// <summary>Job protocol: requester asks for the result rows.</summary>
    Fetch = 15,

    /// <summary>Job protocol: one batch of result rows.</summary>
    Batch = 16,

    /// <summary>Job protocol: end of a result stream.</summary>
    End = 17,

    /// <summary>Job protocol: stop a job.</summary>
    Cancel = 18,

    /// <summary>Job protocol: an error report.</summary>
    Error = 19,

    /// <summary>Job protocol (1.1): a Commit whose rows follow at once, unasked (Batch frames, then End); the host holds nothing after.</summary>
    CommitRows = 20,

    /// <summary>Membership: a signed capability advert.</summary>
    Advert = 30,

    /// <summary>Trust: a signed receipt.</summary>
    Receipt = 31,

    /// <summary>Trust: a signed vouch.</summary>
    Vouch = 32,

    /// <summary>Liveness probe.</summary>
    Ping = 40,

    /// <summary>Liveness answer.</summary>
    Pong = 41,

    /// <summary>SWIM indirect probe: ping a peer on the sender's behalf.</summary>
    ProbeRequest = 42,

    /// <summary>Whether an indirect probe reached its peer.</summary>
    ProbeResult = 43,
}

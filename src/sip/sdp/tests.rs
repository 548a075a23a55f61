//! SDP tests over offers shaped like those real clients send.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::*;

const BOTH: &[Codec] = &[Codec::Pcmu, Codec::Pcma];

/// baresip 3.x with `audio_codecs=PCMA,PCMU` (LF endings as some builds log).
const BARESIP: &str = "v=0\n\
o=- 1848380498 4072125442 IN IP4 127.0.0.1\n\
s=-\n\
c=IN IP4 127.0.0.1\n\
t=0 0\n\
m=audio 10000 RTP/AVP 8 0 101\n\
b=AS:64\n\
a=rtpmap:8 PCMA/8000\n\
a=rtpmap:0 PCMU/8000\n\
a=rtpmap:101 telephone-event/8000\n\
a=fmtp:101 0-15\n\
a=sendrecv\n\
a=label:1\n\
a=rtcp-rsize\n\
a=ssrc:1434720012 cname:sip:agent1@127.0.0.1\n\
a=ptime:20\n";

/// Linphone 5 with video enabled: several telephone-event rates.
const LINPHONE: &str = "v=0\r\n\
o=agent1 1234 5678 IN IP4 192.168.1.10\r\n\
s=Talk\r\n\
c=IN IP4 192.168.1.10\r\n\
t=0 0\r\n\
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n\
a=record:off\r\n\
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 useinbandfec=1\r\n\
a=rtpmap:97 speex/16000\r\n\
a=fmtp:97 vbr=on\r\n\
a=rtpmap:98 speex/8000\r\n\
a=fmtp:18 annexb=yes\r\n\
a=rtpmap:101 telephone-event/48000\r\n\
a=rtpmap:99 telephone-event/16000\r\n\
a=rtpmap:100 telephone-event/8000\r\n\
a=rtcp-fb:* trr-int 1000\r\n\
m=video 9078 RTP/AVP 96 97\r\n\
a=rtpmap:96 VP8/90000\r\n\
a=rtpmap:97 H264/90000\r\n\
a=fmtp:97 profile-level-id=42801F\r\n";

/// SIPp's built-in UAC offer with `[media_ip]`/`[media_port]` filled in.
const SIPP: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

/// A Chrome-style audio section as a plain-RTP gateway passes it on.
const CHROME_PLAIN: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=msid-semantic: WMS\r\n\
m=audio 56432 RTP/AVP 111 63 9 0 8 13 110 126\r\n\
c=IN IP4 10.0.0.7\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=mid:0\r\n\
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtcp-fb:111 transport-cc\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:63 red/48000/2\r\n\
a=fmtp:63 111/111\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:13 CN/8000\r\n\
a=rtpmap:110 telephone-event/48000\r\n\
a=rtpmap:126 telephone-event/8000\r\n\
a=ssrc:3735928559 cname:Yq7pS2Tb0g3Kx1pH\r\n";

fn negotiated(body: &str) -> Negotiated {
    let parsed = parse(body);
    let Ok(description) = parsed else {
        panic!("must parse: {parsed:?}")
    };
    let result = negotiate(&description, BOTH);
    let Ok(n) = result else {
        panic!("must negotiate: {result:?}")
    };
    n
}

fn addr(ip: [u8; 4], port: u16) -> Option<SocketAddr> {
    Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port))
}

fn local() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))
}

#[test]
fn baresip_offer_keeps_its_codec_order() {
    let n = negotiated(BARESIP);
    assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
    assert_eq!(n.telephone_event_pt, Some(101));
    assert_eq!(n.remote_rtp, addr([127, 0, 0, 1], 10000));
    assert_eq!(n.answer_direction, Direction::SendRecv);
    assert_eq!(n.ptime, Some(20));
    let expected = "v=0\r\n\
o=pasokh 7 1 IN IP4 127.0.0.1\r\n\
s=pasokh\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 20000 RTP/AVP 8 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";
    assert_eq!(answer(local(), 20000, 7, 1, &n), expected);
}

#[test]
fn linphone_offer_video_is_rejected_in_the_answer() {
    let n = negotiated(LINPHONE);
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, Some(100), "the 8 kHz one");
    assert_eq!(n.remote_rtp, addr([192, 168, 1, 10], 7078));
    let text = answer(local(), 20000, 7, 2, &n);
    let media: Vec<&str> = text.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        media,
        vec!["m=audio 20000 RTP/AVP 0 100", "m=video 0 RTP/AVP 96"]
    );
    // Our own answer must read back as the same choice.
    let again = negotiated(&text);
    assert_eq!(
        (again.codec, again.telephone_event_pt),
        (Codec::Pcmu, Some(100))
    );
    assert_eq!(again.remote_rtp, addr([127, 0, 0, 1], 20000));
}

#[test]
fn sipp_default_offer() {
    let n = negotiated(SIPP);
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, None);
    assert_eq!(n.remote_rtp, addr([127, 0, 0, 1], 6000));
    assert!(!answer(local(), 20000, 1, 1, &n).contains("telephone-event"));
    // Unfilled keywords are not an offer.
    let raw = SIPP.replace(
        "IN IP4 127.0.0.1\r\nt=",
        "IN IP[media_ip_type] [media_ip]\r\nt=",
    );
    assert!(matches!(
        parse(&raw),
        Err(SdpError::Malformed { line: 4, .. })
    ));
}

#[test]
fn chrome_style_offer_picks_pcmu_and_8khz_events() {
    let n = negotiated(CHROME_PLAIN);
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, Some(126));
    assert_eq!(n.remote_rtp, addr([10, 0, 0, 7], 56432));
    let pcma_only = negotiate(&must_parse(CHROME_PLAIN), &[Codec::Pcma]);
    assert_eq!(pcma_only.map(|n| n.payload_type), Ok(8));
}

#[test]
fn webrtc_profiles_are_refused_not_misread() {
    let webrtc = CHROME_PLAIN
        .replace("RTP/AVP 111", "UDP/TLS/RTP/SAVPF 111")
        .replace("m=audio 56432", "m=audio 9")
        + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    let description = must_parse(&webrtc);
    assert_eq!(description.media.len(), 2);
    assert_eq!(
        negotiate(&description, BOTH),
        Err(SdpError::UnsupportedTransport)
    );
}

#[test]
fn best_effort_srtp_picks_the_plain_line_and_rejects_the_other() {
    let body = "v=0\r\no=- 1 1 IN IP4 10.1.1.1\r\ns=-\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n\
m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n\
m=audio 5002 RTP/AVP 0 8\r\n";
    let n = negotiated(body);
    assert_eq!(n.media_index, 1);
    assert_eq!(n.remote_rtp, addr([10, 1, 1, 1], 5002));
    let text = answer(local(), 30000, 1, 1, &n);
    let media: Vec<&str> = text.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        media,
        vec!["m=audio 0 RTP/SAVP 0", "m=audio 30000 RTP/AVP 0"]
    );
}

#[test]
fn old_style_hold_gives_no_remote_address() {
    let hold = SIPP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
    let n = negotiated(&hold);
    assert_eq!(n.remote_rtp, None);
    assert_eq!(n.direction, Direction::SendRecv);
    assert_eq!(n.answer_direction, Direction::RecvOnly);
    // They still send to us: we receive only.
    let n = negotiated(&format!("{hold}a=sendonly\r\n"));
    assert_eq!(n.answer_direction, Direction::RecvOnly);
    // Nobody may send to them, and they send nothing: inactive.
    let n = negotiated(&format!("{hold}a=recvonly\r\n"));
    assert_eq!(n.answer_direction, Direction::Inactive);
}

#[test]
fn direction_mapping_and_media_level_override() {
    let cases = [
        ("sendrecv", Direction::SendRecv),
        ("sendonly", Direction::RecvOnly),
        ("recvonly", Direction::SendOnly),
        ("inactive", Direction::Inactive),
    ];
    for (attribute, answered) in cases {
        let n = negotiated(&format!("{SIPP}a={attribute}\r\n"));
        assert_eq!(n.answer_direction, answered, "{attribute}");
        assert!(
            answer(local(), 1, 1, 1, &n).ends_with(&format!("a={}\r\n", answered.as_attribute()))
        );
    }
    // Session-level sendonly, overridden by the media level.
    let session_level = SIPP.replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
    assert_eq!(negotiated(&session_level).direction, Direction::SendOnly);
    let overridden = format!("{session_level}a=sendrecv\r\n");
    assert_eq!(negotiated(&overridden).direction, Direction::SendRecv);
}

#[test]
fn static_types_without_rtpmap_and_media_level_connection() {
    let body = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n\
m=audio 0 RTP/AVP 0\nm=audio 4000 RTP/AVP 18 8 0\nc=IN IP4 198.51.100.9/127\n";
    let n = negotiated(body);
    assert_eq!(
        (n.codec, n.payload_type, n.media_index),
        (Codec::Pcma, 8, 1)
    );
    assert_eq!(n.remote_rtp, addr([198, 51, 100, 9], 4000));
}

#[test]
fn ipv6_offer_and_answer() {
    let body =
        "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n";
    let n = negotiated(body);
    assert_eq!(
        n.remote_rtp,
        Some(SocketAddr::new(
            IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            7000
        ))
    );
    let text = answer("::1".parse().unwrap_or(local()), 7002, 1, 1, &n);
    assert!(text.contains("c=IN IP6 ::1\r\n"));
}

#[test]
fn no_common_codec() {
    let g729 = SIPP
        .replace("RTP/AVP 0", "RTP/AVP 18")
        .replace("0 PCMU", "18 G729");
    assert_eq!(
        negotiate(&must_parse(&g729), BOTH),
        Err(SdpError::NoCommonCodec)
    );
    // PCMU named for a stereo or a wideband clock is not our PCMU.
    let odd = SIPP.replace("PCMU/8000", "PCMU/16000");
    assert_eq!(
        negotiate(&must_parse(&odd), BOTH),
        Err(SdpError::NoCommonCodec)
    );
    assert_eq!(
        negotiate(&must_parse(SIPP), &[Codec::Pcma]),
        Err(SdpError::NoCommonCodec)
    );
    let no_audio = SIPP.replace("m=audio 6000", "m=video 6000");
    assert_eq!(
        negotiate(&must_parse(&no_audio), BOTH),
        Err(SdpError::NoAudio)
    );
    let no_c = SIPP.replace("c=IN IP4 127.0.0.1\r\n", "");
    assert_eq!(
        negotiate(&must_parse(&no_c), BOTH),
        Err(SdpError::NoConnection)
    );
}

#[test]
fn garbage_is_an_error() {
    let cases = [
        "",
        "\r\n\r\n",
        "hello",
        "v=1\r\n",
        "s=-\r\nv=0\r\n",
        "v=0\r\nm=audio x RTP/AVP 0\r\n",
        "v=0\r\nm=audio 99999 RTP/AVP 0\r\n",
        "v=0\r\nm=audio\r\n",
        "v=0\r\nc=IN IP4 pbx.example.com\r\n",
        "v=0\r\nc=ATM NSAP 47.0005\r\n",
        "v=0\r\n=x\r\n",
        "v=0\r\nm=audio 1 RTP/AVP 0\r\nc=IN\r\n",
    ];
    for body in cases {
        assert!(parse(body).is_err(), "{body:?}");
    }
    assert_eq!(parse(&"a".repeat(70_000)), Err(SdpError::TooLarge));
    // Attributes that do not parse are skipped, not fatal.
    let odd_attributes =
        format!("{SIPP}a=rtpmap:x\r\na=rtpmap:300 PCMU/8000\r\na=ptime:abc\r\na=fmtp:\r\n");
    assert_eq!(negotiated(&odd_attributes).payload_type, 0);
}

#[test]
fn random_bytes_never_panic() {
    let alphabet: Vec<char> = "v=0\r\nmcaot:/ 0123456789IPN.audioRTP/AVPé"
        .chars()
        .collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..5_000 {
        let mut body = String::from("v=0\r\n");
        for _ in 0..(state % 200) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = usize::try_from(state % alphabet.len() as u64).unwrap_or(0);
            body.push(alphabet.get(index).copied().unwrap_or('x'));
        }
        if let Ok(description) = parse(&body) {
            let _ = negotiate(&description, BOTH);
        }
        state = state.wrapping_add(1);
    }
}

#[test]
fn our_offer_and_its_answers() {
    let ours = offer(local(), 20000, 99, 1);
    let n = negotiated(&ours);
    assert_eq!((n.codec, n.telephone_event_pt), (Codec::Pcmu, Some(101)));
    assert!(ours.starts_with("v=0\r\no=pasokh 99 1 IN IP4 127.0.0.1\r\ns=pasokh\r\n"));
    assert!(ours.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"));

    // baresip (codecs PCMA first) answering our offer.
    let reply = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 10002 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\na=recvonly\r\n";
    let result = parse_answer(reply, BOTH);
    let Ok(n) = result else {
        panic!("answer must be read: {result:?}")
    };
    assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
    assert_eq!(n.remote_rtp, addr([127, 0, 0, 1], 10002));
    assert_eq!(
        (n.direction, n.answer_direction),
        (Direction::RecvOnly, Direction::SendOnly)
    );

    let refused = reply.replace("m=audio 10002", "m=audio 0");
    assert_eq!(parse_answer(&refused, BOTH), Err(SdpError::Rejected));
}

fn must_parse(body: &str) -> SessionDescription {
    let parsed = parse(body);
    let Ok(description) = parsed else {
        panic!("must parse: {parsed:?}")
    };
    description
}

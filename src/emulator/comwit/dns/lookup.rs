//! A small stub resolver: one question to one DNS server over UDP (EDNS, 4096 bytes),
//! again over TCP when the answer is truncated. Used to check delegation and to verify
//! hostnames against what DNS really answers.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one question may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// The answer's records of `rtype` at `name`, in presentation form (host names without
/// the final dot, TXT strings joined). An empty list is NXDOMAIN or no data.
pub async fn lookup(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
) -> Result<Vec<String>, String> {
    tokio::time::timeout(LOOKUP_TIMEOUT, ask(server, name, rtype))
        .await
        .map_err(|_| format!("no answer from {server} within {LOOKUP_TIMEOUT:?}"))?
}

async fn ask(server: SocketAddr, name: &str, rtype: RecordType) -> Result<Vec<String>, String> {
    let qname = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .map_err(|e| format!("{name}: {e}"))?;
    let mut msg = Message::new(rand::random(), MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(qname, rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    msg.set_edns(edns);
    let bytes = msg.to_vec().map_err(|e| e.to_string())?;

    let bind = if server.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(bind).await.map_err(|e| e.to_string())?;
    socket.connect(server).await.map_err(|e| e.to_string())?;
    socket.send(&bytes).await.map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65535];
    let answer = loop {
        let n = socket.recv(&mut buf).await.map_err(|e| e.to_string())?;
        let answer = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
        if answer.metadata.id == msg.metadata.id {
            break answer;
        }
    };
    let answer = if answer.metadata.truncation {
        let mut tcp = TcpStream::connect(server)
            .await
            .map_err(|e| e.to_string())?;
        let len = u16::try_from(bytes.len()).map_err(|e| e.to_string())?;
        tcp.write_all(&len.to_be_bytes())
            .await
            .map_err(|e| e.to_string())?;
        tcp.write_all(&bytes).await.map_err(|e| e.to_string())?;
        let mut len = [0u8; 2];
        tcp.read_exact(&mut len).await.map_err(|e| e.to_string())?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        tcp.read_exact(&mut body).await.map_err(|e| e.to_string())?;
        Message::from_vec(&body).map_err(|e| e.to_string())?
    } else {
        answer
    };
    match answer.metadata.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        other => return Err(format!("{server} answered {other}")),
    }
    Ok(answer
        .answers
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(|r| presentation(&r.data))
        .collect())
}

fn host(n: &Name) -> String {
    n.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// An answer's data as the API writes values.
fn presentation(data: &RData) -> String {
    match data {
        RData::CNAME(n) => host(&n.0),
        RData::NS(n) => host(&n.0),
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::TXT(t) => t
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect::<String>(),
        other => other.to_string(),
    }
}

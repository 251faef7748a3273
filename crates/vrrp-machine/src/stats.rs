//! Per-instance statistics after RFC 6527 (VRRPv3 MIB, `vrrpv3StatisticsTable`).

use crate::Instant;

/// Why this router last became MASTER (`vrrpv3StatisticsNewMasterReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum NewMasterReason {
    /// `notMaster(0)`: never became master.
    #[default]
    NotMaster,
    /// `priority(1)`: address owner at startup.
    Priority,
    /// `preempted(2)`: took over from a lower-priority master.
    Preempted,
    /// `masterNoResponse(3)`: the master went silent or sent priority 0.
    MasterNoResponse,
}

/// Why the last received packet was discarded (`vrrpv3StatisticsProtoErrReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ProtoErrReason {
    /// `noError(0)`.
    #[default]
    NoError,
    /// `ipTtlError(1)`.
    IpTtlError,
    /// `versionError(2)`.
    VersionError,
    /// `checksumError(3)`.
    ChecksumError,
    /// `vrIdError(4)`.
    VrIdError,
}

/// Counters of one instance. The MIB objects they stand for are named on each field.
///
/// Codec-level errors (TTL, checksum, length, type) reach the instance through
/// [`Input::Rejected`](crate::Input::Rejected) so that all counters live in one place.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// `vrrpv3StatisticsMasterTransitions`.
    pub master_transitions: u64,
    /// `vrrpv3StatisticsNewMasterReason`.
    pub new_master_reason: NewMasterReason,
    /// `vrrpv3StatisticsRcvdAdvertisements`: adverts handed to the instance, valid or not.
    pub rcvd_advertisements: u64,
    /// `vrrpv3StatisticsAdvIntervalErrors`: adverts whose interval differs from ours.
    pub adv_interval_errors: u64,
    /// `vrrpv3StatisticsIpTtlErrors`.
    pub ip_ttl_errors: u64,
    /// `vrrpv3StatisticsProtoErrReason`.
    pub proto_err_reason: ProtoErrReason,
    /// `vrrpv3StatisticsRcvdPriZeroPackets`.
    pub rcvd_pri_zero_packets: u64,
    /// `vrrpv3StatisticsSentPriZeroPackets` (counted once per advert, not per unicast peer).
    pub sent_pri_zero_packets: u64,
    /// `vrrpv3StatisticsRcvdInvalidTypePackets`.
    pub rcvd_invalid_type_packets: u64,
    /// `vrrpv3StatisticsAddressListErrors`.
    pub address_list_errors: u64,
    /// `vrrpv3StatisticsPacketLengthErrors`.
    pub packet_length_errors: u64,
    /// `vrrpv3RouterChecksumErrors`, kept per instance.
    pub checksum_errors: u64,
    /// `vrrpv3RouterVersionErrors`, kept per instance.
    pub version_errors: u64,
    /// `vrrpv3RouterVrIdErrors`, kept per instance.
    pub vrid_errors: u64,
    /// VRRPv2 authentication failures and type mismatches (RFC 2787 `vrrpStatsAuthFailures`,
    /// `vrrpStatsAuthTypeMismatch`, `vrrpStatsInvalidAuthType`).
    pub auth_errors: u64,
    /// Adverts sent (once per advert, not per unicast peer); not in the MIB.
    pub sent_advertisements: u64,
    /// `vrrpv3StatisticsRowDiscontinuityTime`: when the counters started.
    pub discontinuity_time: Instant,
}

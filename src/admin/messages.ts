/**
 * The admin API's messages as @grpc/proto-loader presents them with `loaderOptions` (proto.ts):
 * fields by their proto names (snake_case), enums as names, int64 as numbers, absent fields undefined. Written by hand
 * from proto/meshkeeper/admin/v1/admin.proto; requests are what a client may send, so every
 * field is optional and handlers validate them.
 */

export interface Timestamp {
  seconds: number;
  nanos?: number;
}

export interface Duration {
  seconds: number;
  nanos?: number;
}

export type PeerStatusName =
  | 'PEER_STATUS_UNSPECIFIED'
  | 'PEER_STATUS_COLD'
  | 'PEER_STATUS_COOLING'
  | 'PEER_STATUS_WARM'
  | 'PEER_STATUS_HOT';

export type DirectionName = 'DIRECTION_UNSPECIFIED' | 'DIRECTION_INBOUND' | 'DIRECTION_OUTBOUND';

export type PointStateName =
  | 'POINT_STATE_UNSPECIFIED'
  | 'POINT_STATE_REQUESTED'
  | 'POINT_STATE_ACCEPTED'
  | 'POINT_STATE_RUNNING'
  | 'POINT_STATE_DISCONNECTED';

export type CycleMotiveName =
  | 'CYCLE_MOTIVE_UNSPECIFIED'
  | 'CYCLE_MOTIVE_IDLE'
  | 'CYCLE_MOTIVE_MAINTAIN_REQUEST'
  | 'CYCLE_MOTIVE_TOO_FEW'
  | 'CYCLE_MOTIVE_TOO_MANY'
  | 'CYCLE_MOTIVE_BOUNDS_CHANGED'
  | 'CYCLE_MOTIVE_TRUSTED_MISSING';

export type EventKindName =
  | 'EVENT_KIND_UNSPECIFIED'
  | 'EVENT_KIND_STATUS_CHANGE'
  | 'EVENT_KIND_CYCLE'
  | 'EVENT_KIND_BOUNDS_CHANGE'
  | 'EVENT_KIND_BAN'
  | 'EVENT_KIND_TRUST'
  | 'EVENT_KIND_TARGETS_CHANGE';

export interface BoundsMsg {
  min?: number;
  expected?: number;
  max?: number;
}

export interface BandMsg {
  min_threshold?: number;
  min_target?: number;
  max_target?: number;
  max_threshold?: number;
}

export interface WatermarksMsg {
  high?: number;
  low?: number;
}

export interface TargetsMsg {
  hot_target?: number;
  max_known_points?: WatermarksMsg;
  max_known_peer_ids?: WatermarksMsg;
}

export interface CycleSummaryMsg {
  motive?: CycleMotiveName;
  before?: number;
  after?: number;
  dialed?: number;
  succeeded?: number;
  closed?: number;
  asked_for_more?: boolean;
  duration?: Duration;
}

export interface BlockMsg {
  reason?: 'BLOCK_REASON_UNSPECIFIED' | 'BLOCK_REASON_BANNED' | 'BLOCK_REASON_GREYLISTED';
  by?: 'BLOCKED_BY_UNSPECIFIED' | 'BLOCKED_BY_PEER_ID' | 'BLOCKED_BY_POINT' | 'BLOCKED_BY_IP';
  until?: Timestamp;
}

export interface PeerMsg {
  peer_id?: string;
  status?: PeerStatusName;
  direction?: DirectionName;
  address?: string;
  established_at?: Timestamp;
  keep_alive_rtt?: Duration;
  trusted?: boolean;
  blocked?: BlockMsg;
  last_seen_at?: Timestamp;
  private_node?: boolean;
}

export interface PointMsg {
  address?: string;
  state?: PointStateName;
  sources?: string[];
  trusted?: boolean;
  blocked?: BlockMsg;
  expected_peer_id?: string;
  peer_id?: string;
  consecutive_failures?: number;
  last_failure_reason?: string;
  last_failure_at?: Timestamp;
  last_success_at?: Timestamp;
  next_dial_at?: Timestamp;
  added_at?: Timestamp;
}

export interface GetStatusResponse {
  peer_id?: string;
  version?: string;
  network?: string;
  listen_address?: string;
  private_mode?: boolean;
  uptime?: Duration;
  bounds?: BoundsMsg;
  band?: BandMsg;
  targets?: TargetsMsg;
  established?: number;
  peers?: { cold?: number; cooling?: number; warm?: number; hot?: number };
  connections?: { inbound?: number; outbound?: number };
  known_points?: number;
  known_peer_ids?: number;
  last_cycle?: CycleSummaryMsg;
  connection_failures?: number;
}

export interface MaintainResponse {
  cycle?: CycleSummaryMsg;
}

export interface BoundsResponse {
  bounds?: BoundsMsg;
  band?: BandMsg;
}

export interface SetBoundsRequest {
  min?: number;
  expected?: number;
  max?: number;
}

export interface SetTargetsRequest {
  hot_target?: number;
  max_known_points?: WatermarksMsg;
  max_known_peer_ids?: WatermarksMsg;
}

export interface SetTargetsResponse {
  targets?: TargetsMsg;
}

export interface ListPeersRequest {
  statuses?: PeerStatusName[];
  page_size?: number;
  page_token?: string;
}

export interface ListPeersResponse {
  peers?: PeerMsg[];
  next_page_token?: string;
  total_size?: number;
}

export interface ListPointsRequest {
  states?: PointStateName[];
  page_size?: number;
  page_token?: string;
}

export interface ListPointsResponse {
  points?: PointMsg[];
  next_page_token?: string;
  total_size?: number;
}

export interface ConnectRequest {
  address?: string;
}

export interface ConnectResponse {
  peer?: PeerMsg;
  already_connected?: boolean;
}

export interface DisconnectRequest {
  peer_id?: string;
  address?: string;
  target?: 'peer_id' | 'address';
}

export interface DisconnectResponse {
  peer_id?: string;
}

export interface BanTargetMsg {
  peer_id?: string;
  address?: string;
  ip?: string;
  target?: 'peer_id' | 'address' | 'ip';
}

export interface TrustTargetMsg {
  peer_id?: string;
  address?: string;
  target?: 'peer_id' | 'address';
}

export interface BanEntryMsg {
  target?: BanTargetMsg;
  since?: Timestamp;
  until?: Timestamp;
}

export interface BanRequest {
  target?: BanTargetMsg;
  duration?: Duration;
}

export interface BanResponse {
  ban?: BanEntryMsg;
  closed_connections?: number;
}

export interface UnbanRequest {
  target?: BanTargetMsg;
}

export interface TrustRequest {
  target?: TrustTargetMsg;
}

export interface WatchEventsRequest {
  kinds?: EventKindName[];
}

export interface WatchEventsResponse {
  time?: Timestamp;
  sequence?: number;
  kind?: EventKindName;
  event?:
    | 'status_change'
    | 'cycle'
    | 'bounds_change'
    | 'ban_change'
    | 'trust_change'
    | 'targets_change';
  status_change?: {
    peer_id?: string;
    from?: PeerStatusName;
    to?: PeerStatusName;
    direction?: DirectionName;
    address?: string;
  };
  cycle?: CycleSummaryMsg;
  bounds_change?: { bounds?: BoundsMsg; band?: BandMsg };
  ban_change?: {
    action?:
      | 'BAN_ACTION_UNSPECIFIED'
      | 'BAN_ACTION_BAN'
      | 'BAN_ACTION_UNBAN'
      | 'BAN_ACTION_GREYLIST';
    target?: BanTargetMsg;
    until?: Timestamp;
    reason?: string;
  };
  trust_change?: { trusted?: boolean; target?: TrustTargetMsg };
  targets_change?: { targets?: TargetsMsg };
}

export interface PublishRequest {
  payload?: Uint8Array;
}

export interface PublishResponse {
  id?: Uint8Array;
  fresh?: boolean;
}

// biome-ignore lint/complexity/noBannedTypes: the empty messages (GetStatusRequest, …) have no fields.
export type Empty = {};

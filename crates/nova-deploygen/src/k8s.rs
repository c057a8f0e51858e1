//! Kubernetes: the namespace, config map, one Deployment + Service + HPA + PDB +
//! NetworkPolicy per service, the base kustomization, the dev/staging/prod overlays and the
//! prod canary.

use super::*;

pub(crate) fn namespace_yaml() -> String {
    format!(
        "{HEADER}apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NAMESPACE}\n  labels:\n    app.kubernetes.io/part-of: nova\n    pod-security.kubernetes.io/enforce: restricted\n"
    )
}

/// Non-secret settings shared by every pod (secrets come from the `nova-secrets` Secret).
pub(crate) fn configmap_entries() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        ("NOVA_ENV", "production"),
        ("NOVA_BIND_ADDR", "0.0.0.0"),
        ("NOVA_DATA_DIR", "/data"),
        ("NOVA_LOG", "info"),
        ("NOVA_LOG_FORMAT", "json"),
        ("NOVA_SHUTDOWN_GRACE_SECONDS", "25"),
        ("DATABASE_MAX_CONNECTIONS", "10"),
        ("KAFKA_BROKERS", "kafka:9092"),
        ("JWT_ISSUER", "nova"),
        ("JWT_AUDIENCE", "nova"),
        // The ingress controller reaches the pods from the cluster network: its
        // X-Forwarded-For is believed (narrow it to the ingress pods' range if you can).
        ("NOVA_TRUSTED_PROXIES", "10.0.0.0/8"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    if let Some(id) = ServiceSpec::by_name("identity-service") {
        v.push((
            "IDENTITY_JWKS_URL".into(),
            format!("http://{}:{}/.well-known/jwks.json", id.name, id.http_port),
        ));
    }
    v
}

pub(crate) fn configmap_yaml() -> String {
    let mut out = format!(
        "{HEADER}# Secrets (DATABASE_URL, REDIS_URL, NOVA_CURSOR_SECRET, NOVA_SERVICE_SECRET, IDENTITY_ENCRYPTION_KEYS, ...)\n# go in the Secret `nova-secrets`, created by the operator: see deploy/k8s/README.md.\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nova-config\n  labels:\n    app.kubernetes.io/part-of: nova\ndata:\n"
    );
    for (k, v) in configmap_entries() {
        let _ = writeln!(out, "  {k}: {}", q(&v));
    }
    out
}

/// The Deployment of a service; `track` is `stable` (base) or `canary` (prod overlay).
pub(crate) fn deployment(s: &ServiceSpec, track: &str) -> String {
    let name = if track == "stable" {
        s.name.to_owned()
    } else {
        format!("{}-{track}", s.name)
    };
    let image = if track == "stable" {
        format!("nova/{}", s.name)
    } else {
        format!("nova-{track}/{}", s.name)
    };
    let replicas = if track == "stable" { 2 } else { 0 };
    let (cpu_req, mem_req, cpu_lim, mem_lim) = resources(s.resources);
    let class = class_name(s.resources);
    let mut out = String::new();
    let _ = write!(
        out,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {svc}
    track: {track}
    app.kubernetes.io/name: {svc}
    app.kubernetes.io/part-of: nova
    nova.dev/resource-class: {class}
  annotations:
    nova.dev/description: {desc}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      app: {svc}
      track: {track}
  template:
    metadata:
      labels:
        app: {svc}
        track: {track}
        app.kubernetes.io/name: {svc}
        app.kubernetes.io/part-of: nova
        nova.dev/resource-class: {class}
      annotations:
        prometheus.io/scrape: \"true\"
        prometheus.io/port: \"{http}\"
        prometheus.io/path: {metrics}
    spec:
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 1000
        seccompProfile:
          type: RuntimeDefault
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app: {svc}
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app: {svc}
      containers:
        - name: {svc}
          image: {image}
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: {http}
              protocol: TCP
",
        svc = s.name,
        desc = q(s.description),
        http = s.http_port,
        metrics = q(METRICS_PATH),
    );
    if let Some(grpc) = s.grpc_port {
        let _ = write!(
            out,
            "            - name: grpc
              containerPort: {grpc}
              protocol: TCP
"
        );
    }
    let _ = write!(
        out,
        "          envFrom:
            - configMapRef:
                name: nova-config
            # Required: without it every replica would make up its own keys.
            - secretRef:
                name: nova-secrets
          env:
            - name: NOVA_SERVICE_TRACK
              value: {track}
          resources:
            requests:
              cpu: {cpu_req}
              memory: {mem_req}
            limits:
              cpu: \"{cpu_lim}\"
              memory: {mem_lim}
          startupProbe:
            httpGet:
              path: {health}
              port: http
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet:
              path: {health}
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: {ready}
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          lifecycle:
            preStop:
              exec:
                command: [\"sleep\", \"5\"]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            runAsUser: 1000
            capabilities:
              drop:
                - ALL
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            - name: data
              mountPath: /data
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        - name: data
          emptyDir:
            sizeLimit: 256Mi
",
        health = q(HEALTH_PATH),
        ready = q(READY_PATH),
    );
    out
}

pub(crate) fn service_manifests(s: &ServiceSpec) -> String {
    let mut out = format!(
        "{HEADER}# {}: {}\n# HTTP {}{}; backends: {}.\n---\n",
        s.name,
        s.description,
        s.http_port,
        s.grpc_port
            .map(|g| format!(", gRPC {g}"))
            .unwrap_or_default(),
        if s.backends.is_empty() {
            "none (talks to the domain services)".to_owned()
        } else {
            s.backends
                .iter()
                .map(|b| b.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    out.push_str(&deployment(s, "stable"));
    let _ = write!(
        out,
        "---
apiVersion: v1
kind: Service
metadata:
  name: {svc}
  labels:
    app: {svc}
    app.kubernetes.io/part-of: nova
spec:
  type: ClusterIP
  # Selects stable and canary pods alike; a canary controller weights them by `track`.
  selector:
    app: {svc}
  ports:
    - name: http
      port: {http}
      targetPort: http
      protocol: TCP
",
        svc = s.name,
        http = s.http_port,
    );
    if let Some(grpc) = s.grpc_port {
        let _ = write!(
            out,
            "    - name: grpc
      port: {grpc}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
"
        );
    }
    out.push_str(&network_policy(s));
    let (min, max) = hpa_bounds(s.resources);
    let _ = write!(
        out,
        "---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {svc}
  labels:
    app: {svc}
    app.kubernetes.io/part-of: nova
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {svc}
  minReplicas: {min}
  maxReplicas: {max}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: 80
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {svc}
  labels:
    app: {svc}
    app.kubernetes.io/part-of: nova
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: {svc}
      track: stable
",
        svc = s.name,
    );
    out
}

/// Which services call each service's gRPC port (the `*_SERVICE_URL` each shell reads).
/// Internal RPCs also require a service token; this keeps everyone else off the port.
pub const GRPC_CALLERS: &[(&str, &[&str])] = &[
    ("identity-service", &["graphql-gateway"]),
    (
        "graph-service",
        &[
            "social-service",
            "content-service",
            "feed-service",
            "search-service",
            "graphql-gateway",
        ],
    ),
    (
        "user-service",
        &[
            "social-service",
            "content-service",
            "feed-service",
            "search-service",
            "graphql-gateway",
        ],
    ),
    (
        "social-service",
        &[
            "content-service",
            "feed-service",
            "search-service",
            "notification-service",
            "realtime-chat-service",
            "graphql-gateway",
        ],
    ),
    ("content-service", &["social-service", "graphql-gateway"]),
    ("feed-service", &["graphql-gateway"]),
    ("search-service", &["graphql-gateway"]),
    ("ranking-service", &["feed-service", "graphql-gateway"]),
    ("notification-service", &["graphql-gateway"]),
    // Content screens posts wherever it runs: content-service, and feed-service and
    // search-service, which run content in-process; notifications and chat enforce
    // suspensions, silences, removals and hides.
    (
        "trust-safety-service",
        &[
            "content-service",
            "feed-service",
            "search-service",
            "notification-service",
            "realtime-chat-service",
            "graphql-gateway",
        ],
    ),
    ("analytics-service", &["graphql-gateway"]),
    ("realtime-chat-service", &["graphql-gateway"]),
    // Users claims profile pictures in media, content a post's media.
    (
        "media-service",
        &[
            "user-service",
            "content-service",
            "feed-service",
            "search-service",
            "graphql-gateway",
        ],
    ),
];

/// A NetworkPolicy for `s`: HTTP (REST, health, metrics, JWKS) stays open inside the
/// cluster; gRPC only from the services in [`GRPC_CALLERS`] (none listed: from nobody).
pub(crate) fn network_policy(s: &ServiceSpec) -> String {
    let Some(grpc) = s.grpc_port else {
        return String::new();
    };
    let callers = GRPC_CALLERS
        .iter()
        .find(|(name, _)| *name == s.name)
        .map_or(&[][..], |(_, callers)| *callers);
    let mut out = format!(
        "---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {svc}
  labels:
    app.kubernetes.io/part-of: nova
spec:
  podSelector:
    matchLabels:
      app: {svc}
  policyTypes:
    - Ingress
  ingress:
    - ports:
        - port: {http}
          protocol: TCP
",
        svc = s.name,
        http = s.http_port,
    );
    if !callers.is_empty() {
        out.push_str("    - from:\n");
        for caller in callers {
            let _ = write!(
                out,
                "        - podSelector:\n            matchLabels:\n              app: {caller}\n"
            );
        }
        let _ = write!(
            out,
            "      ports:\n        - port: {grpc}\n          protocol: TCP\n"
        );
    }
    out
}

pub(crate) fn base_kustomization() -> String {
    let mut out = format!(
        "{HEADER}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {NAMESPACE}\nresources:\n  - namespace.yaml\n  - configmap.yaml\n"
    );
    for s in SERVICES {
        let _ = writeln!(out, "  - {}.yaml", s.name);
    }
    out
}

/// Per overlay: (stable replicas, HPA min, HPA max multiplier, image tag, NOVA_ENV, log filter).
pub(crate) struct OverlaySettings {
    replicas: u32,
    hpa_min: u32,
    hpa_max_factor: u32,
    tag: String,
    env: &'static str,
    log: &'static str,
    /// Resource scale: requests and limits are multiplied by num/den.
    scale: (u32, u32),
}

pub(crate) fn overlay_settings(overlay: &str) -> OverlaySettings {
    let version = env!("CARGO_PKG_VERSION");
    match overlay {
        "dev" => OverlaySettings {
            replicas: 1,
            hpa_min: 1,
            hpa_max_factor: 1,
            tag: "dev".into(),
            env: "development",
            log: "debug",
            scale: (1, 2),
        },
        "staging" => OverlaySettings {
            replicas: 2,
            hpa_min: 2,
            hpa_max_factor: 1,
            tag: format!("{version}-rc"),
            env: "production",
            log: "info",
            scale: (1, 1),
        },
        _ => OverlaySettings {
            replicas: 3,
            hpa_min: 3,
            hpa_max_factor: 2,
            tag: version.into(),
            env: "production",
            log: "info",
            scale: (2, 1),
        },
    }
}

/// Scales a Kubernetes quantity like `250m`, `1`, `512Mi`, `1Gi` by num/den.
pub(crate) fn scale_quantity(q: &str, (num, den): (u32, u32)) -> String {
    let (digits, unit) = q.split_at(q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len()));
    let value: u32 = digits.parse().unwrap_or(0);
    // Work in the smallest unit so halves stay whole numbers.
    let (base, unit) = match unit {
        "" => (value * 1000, "m"),
        "Gi" => (value * 1024, "Mi"),
        u => (value, u),
    };
    let scaled = base * num / den;
    match unit {
        "m" if scaled % 1000 == 0 => format!("{}", scaled / 1000),
        "Mi" if scaled % 1024 == 0 => format!("{}Gi", scaled / 1024),
        u => format!("{scaled}{u}"),
    }
}

pub(crate) fn overlay_kustomization(overlay: &str) -> String {
    let o = overlay_settings(overlay);
    let mut out = format!(
        "{HEADER}# Overlay `{overlay}`: {} stable replicas per service, image tag {}, resources x{}/{}.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {NAMESPACE}\nresources:\n  - ../../base\n",
        o.replicas, o.tag, o.scale.0, o.scale.1
    );
    if overlay == "prod" {
        out.push_str(
            "  # `<service>-canary` Deployments (track: canary, 0 replicas until a release):\n  # see deploy/DEPLOYMENT_GUIDE.md, \"Canary releases\".\n  - canary.yaml\n",
        );
    }
    let _ = write!(
        out,
        "labels:\n  - pairs:\n      nova.dev/environment: {overlay}\n    includeSelectors: false\n    includeTemplates: true\n"
    );
    out.push_str("images:\n");
    for s in SERVICES {
        let _ = write!(
            out,
            "  - name: nova/{svc}\n    newName: ghcr.io/nova-social/{svc}\n    newTag: {q}\n",
            svc = s.name,
            q = q(&o.tag)
        );
        if overlay == "prod" {
            let _ = write!(
                out,
                "  - name: nova-canary/{svc}\n    newName: ghcr.io/nova-social/{svc}\n    newTag: {q}\n",
                svc = s.name,
                q = q(&o.tag)
            );
        }
    }
    out.push_str("replicas:\n");
    for s in SERVICES {
        let _ = write!(out, "  - name: {}\n    count: {}\n", s.name, o.replicas);
    }
    out.push_str("patches:\n");
    let _ = write!(
        out,
        "  - patch: |-\n      apiVersion: v1\n      kind: ConfigMap\n      metadata:\n        name: nova-config\n      data:\n        NOVA_ENV: {}\n        NOVA_LOG: {}\n",
        o.env, o.log
    );
    for class in [
        ResourceClass::Small,
        ResourceClass::Medium,
        ResourceClass::Large,
    ] {
        let (cr, mr, cl, ml) = resources(class);
        let (cr, mr, cl, ml) = (
            scale_quantity(cr, o.scale),
            scale_quantity(mr, o.scale),
            scale_quantity(cl, o.scale),
            scale_quantity(ml, o.scale),
        );
        let _ = write!(
            out,
            "  - target:\n      kind: Deployment\n      labelSelector: nova.dev/resource-class={c}\n    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/0/resources\n        value:\n          requests: {{cpu: {cr}, memory: {mr}}}\n          limits: {{cpu: {q_cl}, memory: {ml}}}\n",
            c = class_name(class),
            q_cl = q(&cl),
        );
    }
    for s in SERVICES {
        let (_, max) = hpa_bounds(s.resources);
        let max = (max * o.hpa_max_factor).max(o.hpa_min);
        let _ = write!(
            out,
            "  - target:\n      kind: HorizontalPodAutoscaler\n      name: {}\n    patch: |-\n      - op: replace\n        path: /spec/minReplicas\n        value: {}\n      - op: replace\n        path: /spec/maxReplicas\n        value: {max}\n",
            s.name, o.hpa_min
        );
    }
    out
}

pub(crate) fn canary_deployments() -> String {
    let mut out = format!(
        "{HEADER}# One `<service>-canary` Deployment per service (label track: canary), same pod spec as\n# the stable one, 0 replicas. A release sets the canary image in overlays/prod/kustomization.yaml\n# and shifts traffic 5% -> 50% -> 100% (replica ratio, or a controller weighting `track`).\n"
    );
    for s in SERVICES {
        out.push_str("---\n");
        out.push_str(&deployment(s, "canary"));
    }
    out
}

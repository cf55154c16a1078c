// A kubeconfig for the local control plane's admin token user. Pure.
export interface KubeconfigInput {
  server: string;
  caFile: string;
  token: string;
  name?: string;
}

export function renderKubeconfig(k: KubeconfigInput): string {
  const name = k.name ?? 'tabby-lab';
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${k.server}
    certificate-authority: ${k.caFile}
users:
- name: ${name}-admin
  user:
    token: ${k.token}
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: ${name}-admin
current-context: ${name}
`;
}

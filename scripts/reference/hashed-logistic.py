# Reference values for src/engines/routing/hashed-logistic.test.ts: the same features (FNV-1a
# 32 hashed word n-grams, log counts, unit length) and the same objective (summed log-loss plus
# l2/2 of the squared weights) minimised by scipy (L-BFGS-B), biases centred.
# Run: python3 scripts/reference/hashed-logistic.py (numpy, scipy 1.17)
import re, math, numpy as np
from scipy.optimize import minimize
def fnv(s):
    h=0x811c9dc5
    for b in s.encode('utf-8'):
        h^=b; h=(h*0x01000193)&0xffffffff
    return h
def feat(t,B,ng):
    w=re.findall(r'[^\W_]+',t.lower())
    c={}
    def add(g):
        b=fnv(g)%B; c[b]=c.get(b,0)+1
    for i in range(len(w)):
        add(w[i])
        if ng==2 and i+1<len(w): add(w[i]+' '+w[i+1])
    v={b:math.log1p(x) for b,x in c.items()}
    n=math.sqrt(sum(x*x for x in v.values()))
    return {b:x/n for b,x in v.items()} if n>0 else v
ex=[("what are your opening hours","cheap"),("where is my order","cheap"),("reset my password please","cheap"),("thanks that helps","cheap"),
("explain why the proof of the lemma fails for n equal zero","strong"),("compare the two designs and derive the trade offs","strong"),("prove the bound step by step","strong"),("design a lock free queue and explain why it is correct","strong"),
("my invoice shows a vat error for germany","tax"),("which vat rate applies to ebooks in france","tax"),("can i reclaim vat on a refund","tax")]
tests=["why is my vat wrong","opening hours on sunday","prove the design is correct","hello"]
for B,ng,l2 in [(64,2,1.0),(2**18,2,0.5),(2**18,1,2.0)]:
    classes=sorted(set(l for _,l in ex)); K=len(classes)
    rows=[feat(t,B,ng) for t,_ in ex]; cols=sorted(set(b for r in rows for b in r)); ci={b:i for i,b in enumerate(cols)}; D=len(cols)
    X=np.zeros((len(ex),D))
    for i,r in enumerate(rows):
        for b,v in r.items(): X[i,ci[b]]=v
    Y=np.array([classes.index(l) for _,l in ex])
    def f(theta):
        W=theta[:D*K].reshape(D,K); b=theta[D*K:]
        Z=X@W+b; Z-=Z.max(1,keepdims=True); P=np.exp(Z); P/=P.sum(1,keepdims=True)
        loss=-np.log(P[np.arange(len(Y)),Y]).sum()+0.5*l2*(W*W).sum()
        P[np.arange(len(Y)),Y]-=1
        gW=X.T@P+l2*W; gb=P.sum(0)
        return loss,np.concatenate([gW.ravel(),gb])
    r=minimize(f,np.zeros(D*K+K),jac=True,method='L-BFGS-B',options={'gtol':1e-12,'ftol':1e-15,'maxiter':10000})
    W=r.x[:D*K].reshape(D,K); b=r.x[D*K:]; b-=b.mean()
    print(f"B={B} ng={ng} l2={l2} D={D} loss={r.fun:.12f} bias={[round(x,9) for x in b]}")
    for t in tests:
        v=feat(t,B,ng); z=b.copy()
        for bb,x in v.items():
            if bb in ci: z=z+W[ci[bb]]*x
        z-=z.max(); p=np.exp(z); p/=p.sum()
        print("  ",repr(t),[f"{x:.9f}" for x in p])
